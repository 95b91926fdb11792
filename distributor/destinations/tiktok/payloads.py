"""Request bodies for TikTok's audience endpoints, built exactly as TikTok documents them.

The mapping body is the hot path (10,000 users a request, 50 requests a second): it is
built column-wise by Polars, about a millisecond for 10,000 rows, where Python dicts and
orjson take ~20 ms of the event loop per request. Ids are lowercase hex (all a plan
carries), so nothing needs escaping; anything else is refused here rather than sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl

from distributor.destinations.base import Action

# TikTok's id_schema name for each plan column.
ID_SCHEMA: dict[str, str] = {
    "email_sha256": "EMAIL_SHA256",
    "phone_sha256": "PHONE_SHA256",
    "idfa_sha256": "IDFA_SHA256",
    "aaid_sha256": "AAID_SHA256",
}
_HEX = r"^[0-9a-f]+$"


def batch_data(ids: pl.DataFrame, audience_id: str) -> bytes:
    """`batch_data`: one JSON array per row, one cell per column, `{}` for a missing id."""
    target = orjson.dumps([audience_id]).decode()
    bad = ids.select(
        pl.any_horizontal(~pl.col(c).str.contains(_HEX) for c in ids.columns).any()
    ).item()
    if bad:
        raise ValueError("a batch holds an id that is not lowercase hex")
    cells = [
        pl.when(pl.col(c).is_null())
        .then(pl.lit("{}"))
        .otherwise(pl.lit('{"id":"') + pl.col(c) + pl.lit(f'","audience_ids":{target}}}'))
        for c in ids.columns
    ]
    row = pl.concat_str([pl.lit("["), pl.concat_str(cells, separator=","), pl.lit("]")])
    joined = ids.select(row.str.join(",")).item()
    return b"[" + (joined or "").encode() + b"]"


def mapping(
    advertiser_id: str,
    action: Action,
    audience_id: str,
    id_columns: Sequence[str],
    ids: pl.DataFrame,
) -> bytes:
    """POST segment/mapping/: add or delete the batch's users in one audience."""
    head = orjson.dumps(
        {
            "advertiser_ids": [advertiser_id],
            "action": action,
            "id_schema": [ID_SCHEMA[c] for c in id_columns],
        }
    )
    return head[:-1] + b',"batch_data":' + batch_data(ids, audience_id) + b"}"


def permission_probe(advertiser_id: str) -> dict[str, Any]:
    """An empty mapping: refused with 40001 without the right to manage audiences, and
    with 40002 (empty batch) with it, so it tells the role without changing anything."""
    return {"advertiser_ids": [advertiser_id], "action": "add", "id_schema": [], "batch_data": []}


def create_audience(advertiser_id: str, name: str) -> dict[str, Any]:
    return {"advertiser_id": advertiser_id, "action": "create", "custom_audience_name": name}


def delete_audience(advertiser_id: str, audience_id: str) -> dict[str, Any]:
    return {"advertiser_id": advertiser_id, "action": "delete", "delete_audience_id": audience_id}


def access_token(app_id: str, secret: str, auth_code: str) -> dict[str, Any]:
    return {"app_id": app_id, "secret": secret, "auth_code": auth_code}
