"""The TikTok Business API v1.3 endpoints the emulator serves. Each takes the request and
returns (data, request-log fields) or raises ApiError(code, message), which the dispatch
(app.py) wraps in TikTok's envelope.

Behaviour the public record leaves open (see shared research, tiktok_api.md) is a
documented choice:
- permission is checked before parameters, so an Analyst gets 40001 even for a bad body;
- rows of batch_data misaligned with id_schema are refused (strict), not counted;
- an unknown audience ID is a 40002 parameter error naming the field;
- over the 400-audience cap is 40002 "The number of custom audiences exceeds the upper limit";
- names longer than 128 characters are refused; names of 71-128 are kept whole unless the
  emulator runs with --truncate-names (then stored as 67 characters + "...").
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request

from distributor.sandbox.state import (
    ID_TYPES,
    MANAGE_ROLES,
    Audience,
    Sandbox,
    now_text,
)

MAX_AUDIENCES = 400
MAX_BATCH = 10_000
MAX_NAME = 128
TRUNCATE_OVER = 70
MIN_REPORTED = 1000
HEX = {64: re.compile(r"(?:[0-9a-f]{64}\n)*"), 32: re.compile(r"(?:[0-9a-f]{32}\n)*")}


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- helpers --------------------------------------------------------------------------


async def body_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ApiError(40002, "Parameter error: the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(40002, "Parameter error: the request body must be a JSON object")
    return data


def query_list(request: Request, name: str, required: bool = True) -> list[str]:
    raw = request.query_params.get(name)
    if raw is None:
        if required:
            raise ApiError(40002, f"Parameter error: {name} is required")
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(40002, f"Parameter error: {name} must be a JSON array") from None
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ApiError(40002, f"Parameter error: {name} must be a JSON array of strings")
    return [str(v) for v in value]


def token_roles(box: Sandbox, request: Request) -> dict[str, str]:
    token = request.headers.get("Access-Token", "")
    if not token:
        raise ApiError(40104, "Access token is null")
    entry = box.state.tokens.get(token)
    if entry is None or entry.revoked:
        raise ApiError(40105, "The access token is invalid or has been revoked.")
    return entry.roles


def advertiser_of(roles: dict[str, str], advertiser_id: Any, manage: bool) -> str:
    if not isinstance(advertiser_id, str | int) or not str(advertiser_id).isdigit():
        raise ApiError(40002, "Parameter error: advertiser_id must be a numeric string")
    advertiser = str(advertiser_id)
    role = roles.get(advertiser)
    if role is None or (manage and role not in MANAGE_ROLES):
        raise ApiError(
            40001,
            f"No permission to operate advertiser {advertiser}. "
            "You must be an admin or operator of this advertiser account.",
        )
    return advertiser


def owned_audience(box: Sandbox, advertiser: str, audience_id: Any, field_name: str) -> Audience:
    audience = box.state.audiences.get(str(audience_id))
    if audience is None or audience.advertiser_id != advertiser:
        raise ApiError(40002, f"Parameter error: invalid audience ID in {field_name}")
    return audience


def cover(box: Sandbox, audience: Audience) -> int:
    matched = box.users.matched(audience)
    return matched if matched >= MIN_REPORTED else 0


def list_item(box: Sandbox, audience: Audience) -> dict[str, Any]:
    size = cover(box, audience)
    return {
        "audience_id": audience.audience_id,
        "name": audience.name,
        "cover_num": size,
        "is_valid": size >= MIN_REPORTED,
        "is_creator": True,
        "shared": False,
        "is_expiring": False,
        "calculate_type": "MULTIPLE_TYPES",
        "audience_type": "Partner Audience",
        "create_time": audience.create_time,
        "expired_time": None,
    }


# -- endpoints: each returns (data, log fields) or raises ApiError --------------------

Result = tuple[dict[str, Any], dict[str, Any]]


async def oauth_access_token(box: Sandbox, request: Request) -> Result:
    body = await body_json(request)
    if str(body.get("app_id")) != box.state.app_id or body.get("secret") != box.state.app_secret:
        raise ApiError(40101, "Invalid app_id or secret")
    code = body.get("auth_code")
    exchanged = box.state.exchange(str(code)) if isinstance(code, str) else None
    if exchanged is None:
        raise ApiError(40110, "The auth_code is invalid or has expired")
    token, advertisers = exchanged
    return (
        {
            "access_token": token,
            "advertiser_ids": advertisers,
            "scope": ["Audience Management", "Ad Account Management"],
        },
        {},
    )


async def oauth_revoke(box: Sandbox, request: Request) -> Result:
    body = await body_json(request)
    if str(body.get("app_id")) != box.state.app_id or body.get("secret") != box.state.app_secret:
        raise ApiError(40101, "Invalid app_id or secret")
    entry = box.state.tokens.get(str(body.get("access_token", "")))
    if entry is None:
        raise ApiError(40105, "The access token is invalid or has been revoked.")
    entry.revoked = True
    box.state.dirty = True
    return {}, {}


async def oauth_advertisers(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    if (
        request.query_params.get("app_id") != box.state.app_id
        or request.query_params.get("secret") != box.state.app_secret
    ):
        raise ApiError(40101, "Invalid app_id or secret")
    items = [
        {"advertiser_id": a, "advertiser_name": box.state.advertisers.get(a, a)} for a in roles
    ]
    return {"list": items}, {}


async def advertiser_info(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    ids = query_list(request, "advertiser_ids")
    items = []
    for advertiser in ids:
        advertiser_of(roles, advertiser, manage=False)
        items.append(
            {
                "advertiser_id": advertiser,
                "name": box.state.advertisers[advertiser],
                "status": "STATUS_ENABLE",
                "role": "ROLE_ADVERTISER",
                "currency": "USD",
                "timezone": "Etc/GMT",
                "country": "US",
                "company": "Sandbox Inc.",
            }
        )
    return {"list": items}, {}


async def user_info(box: Sandbox, request: Request) -> Result:
    token_roles(box, request)
    return {
        "display_name": "Sandbox User",
        "email": "sandbox-user@example.invalid",
        "id": "7000000000000000001",
        "create_time": 1700000000,
    }, {}


async def segment_audience(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    body = await body_json(request)
    advertiser = advertiser_of(roles, body.get("advertiser_id"), manage=True)
    action = body.get("action")
    if action == "create":
        name = body.get("custom_audience_name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise ApiError(
                40002, f"Parameter error: custom_audience_name must be 1-{MAX_NAME} characters"
            )
        owned = sum(1 for a in box.state.audiences.values() if a.advertiser_id == advertiser)
        if owned >= MAX_AUDIENCES:
            raise ApiError(
                40002, f"The number of custom audiences exceeds the upper limit ({MAX_AUDIENCES})"
            )
        if box.truncate_names and len(name) > TRUNCATE_OVER:
            name = name[: TRUNCATE_OVER - 3] + "..."
        audience = Audience(box.state.new_audience_id(), advertiser, name, now_text())
        audience.history.append(
            {
                "opt_time": audience.create_time,
                "action": "create",
                "editor": "open_api",
                "msg": None,
                "action_detail": "0",
            }
        )
        box.state.audiences[audience.audience_id] = audience
        box.state.dirty = True
        return {"audience_id": audience.audience_id}, {"audience_ids": [audience.audience_id]}
    if action == "delete":
        target = body.get("delete_audience_id", body.get("audience_id"))
        audience = owned_audience(box, advertiser, target, "delete_audience_id")
        del box.state.audiences[audience.audience_id]
        box.state.dirty = True
        return {"audience_id": audience.audience_id}, {"audience_ids": [audience.audience_id]}
    raise ApiError(40002, "Parameter error: action must be create or delete")


def _check_batch(id_schema: Any, batch: Any) -> tuple[list[str], list[list[Any]]]:
    if not isinstance(id_schema, list) or not id_schema or len(set(id_schema)) != len(id_schema):
        raise ApiError(
            40002, "Parameter error: id_schema must be a non-empty list of distinct types"
        )
    unknown = [t for t in id_schema if t not in ID_TYPES]
    if unknown:
        raise ApiError(40002, f"Parameter error: id_schema has unsupported types {unknown}")
    if not isinstance(batch, list) or not batch:
        raise ApiError(40002, "Parameter error: batch_data must be a non-empty list")
    if len(batch) > MAX_BATCH:
        raise ApiError(40002, f"Parameter error: batch_data has more than {MAX_BATCH} users")
    width = len(id_schema)
    for position, row in enumerate(batch):
        if not isinstance(row, list) or len(row) != width:
            raise ApiError(
                40002,
                f"Parameter error: batch_data.{position} does not align with "
                f"id_schema ({width} entries expected)",
            )
    return id_schema, batch


Cells = tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]


def _fast_cells(schema: list[str], batch: list[list[Any]]) -> Cells | None:
    """The common shape, column by column at C speed: every cell `{}` or an `id` string
    with the same `audience_ids` list down a column. None for anything else, which the
    validating loop then handles (and explains)."""
    columns: dict[str, list[str]] = {}
    targets: dict[tuple[str, str], list[str]] = {}
    try:
        for index, id_type in enumerate(schema):
            present = [cell for cell in [row[index] for row in batch] if cell]
            values = [cell["id"] for cell in present]
            lists = [cell["audience_ids"] for cell in present]
            if not present:
                columns[id_type] = []
                continue
            first = lists[0]
            if (
                not isinstance(first, list)
                or not first
                or lists.count(first) != len(lists)
                or not all(type(v) is str for v in values)
            ):
                return None
            columns[id_type] = values
            for audience_id in first:
                targets.setdefault((str(audience_id), id_type), []).extend(values)
    except (KeyError, TypeError, AttributeError):
        return None
    return columns, targets


def _cells(schema: list[str], batch: list[list[Any]]) -> Cells:
    columns: dict[str, list[str]] = {t: [] for t in schema}
    targets: dict[tuple[str, str], list[str]] = {}
    for position, row in enumerate(batch):
        for id_type, cell in zip(schema, row, strict=True):
            if not cell:
                continue
            audience_ids = cell.get("audience_ids") if isinstance(cell, dict) else None
            value = cell.get("id") if isinstance(cell, dict) else None
            if not isinstance(value, str) or not isinstance(audience_ids, list) or not audience_ids:
                raise ApiError(
                    40002,
                    f"Parameter error: batch_data.{position} has an entry "
                    "without id or audience_ids",
                )
            columns[id_type].append(value)
            for audience_id in audience_ids:
                targets.setdefault((str(audience_id), id_type), []).append(value)
    return columns, targets


async def segment_mapping(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    body = await body_json(request)
    ids = body.get("advertiser_ids")
    if not isinstance(ids, list) or len(ids) != 1:
        raise ApiError(40002, "Parameter error: advertiser_ids must hold one advertiser ID")
    advertiser = advertiser_of(roles, ids[0], manage=True)
    action = body.get("action")
    if action not in ("add", "delete"):
        raise ApiError(40002, "Parameter error: action must be add or delete")
    schema, batch = _check_batch(body.get("id_schema"), body.get("batch_data"))
    fast = _fast_cells(schema, batch)
    columns, targets = fast if fast is not None else _cells(schema, batch)
    for id_type, values in columns.items():
        length = 32 if id_type.endswith("MD5") else 64
        if values and not HEX[length].fullmatch("\n".join(values) + "\n"):
            raise ApiError(
                40002, f"Parameter error: {id_type} ids must be {length} lowercase hex characters"
            )
    if box.faults.poison_ids:
        poison = set(box.faults.poison_ids)
        if any(poison.intersection(values) for values in columns.values()):
            raise ApiError(40002, "Parameter error: batch_data holds an invalid user id")
    touched = sorted({audience_id for audience_id, _ in targets})
    audiences = {a: owned_audience(box, advertiser, a, "audience_ids") for a in touched}
    for (audience_id, id_type), values in targets.items():
        bucket = audiences[audience_id].members.setdefault(id_type, set())
        if action == "add":
            bucket.update(values)
        else:
            bucket.difference_update(values)
    box.state.dirty = True
    return {}, {
        "action": action,
        "count": len(batch),
        "audience_ids": touched,
        "advertiser_id": advertiser,
    }


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page_size", "10"))
    except ValueError:
        raise ApiError(40002, "Parameter error: page and page_size must be integers") from None
    if page < 1 or not 1 <= size <= 100:
        raise ApiError(40002, "Parameter error: page >= 1 and page_size 1-100")
    return page, size


async def audience_list(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    advertiser = advertiser_of(roles, request.query_params.get("advertiser_id"), manage=False)
    wanted = set(query_list(request, "custom_audience_ids", required=False))
    page, size = _paging(request)
    owned = [
        a
        for a in box.state.audiences.values()
        if a.advertiser_id == advertiser and (not wanted or a.audience_id in wanted)
    ]
    owned.sort(key=lambda a: (a.create_time, a.audience_id))
    chunk = owned[(page - 1) * size : page * size]
    total_page = max(1, -(-len(owned) // size))
    return (
        {
            "list": [list_item(box, a) for a in chunk],
            "page_info": {
                "page": page,
                "page_size": size,
                "total_number": len(owned),
                "total_page": total_page,
            },
        },
        {},
    )


async def audience_get(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    advertiser = advertiser_of(roles, request.query_params.get("advertiser_id"), manage=False)
    ids = query_list(request, "custom_audience_ids")
    if not 1 <= len(ids) <= 100:
        raise ApiError(40002, "Parameter error: custom_audience_ids must hold 1-100 IDs")
    items = []
    for audience_id in ids:
        audience = owned_audience(box, advertiser, audience_id, "custom_audience_ids")
        details = {
            **list_item(box, audience),
            "type": "Partner",
            "audience_sub_type": "NORMAL",
            "rule": '{"inclusions": null, "exclusions": null}',
            "msg": None,
            "error_msg": None,
            "is_auto_refresh": False,
        }
        items.append({"audience_details": details, "audience_history": audience.history})
    return {"list": items}, {}


async def audience_delete(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    body = await body_json(request)
    advertiser = advertiser_of(roles, body.get("advertiser_id"), manage=True)
    ids = body.get("custom_audience_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise ApiError(40002, "Parameter error: custom_audience_ids must hold 1-100 IDs")
    audiences = [owned_audience(box, advertiser, a, "custom_audience_ids") for a in ids]
    for audience in audiences:
        box.state.audiences.pop(audience.audience_id, None)
    box.state.dirty = True
    return {}, {"audience_ids": [a.audience_id for a in audiences]}


Handler = Callable[[Sandbox, Request], Awaitable[Result]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "oauth2/access_token/"): oauth_access_token,
    ("POST", "oauth2/revoke_token/"): oauth_revoke,
    ("GET", "oauth2/advertiser/get/"): oauth_advertisers,
    ("GET", "advertiser/info/"): advertiser_info,
    ("GET", "user/info/"): user_info,
    ("POST", "segment/audience/"): segment_audience,
    ("POST", "segment/mapping/"): segment_mapping,
    ("GET", "dmp/custom_audience/list/"): audience_list,
    ("GET", "dmp/custom_audience/get/"): audience_get,
    ("POST", "dmp/custom_audience/delete/"): audience_delete,
}
UNLIMITED = {"oauth2/access_token/", "oauth2/revoke_token/"}
