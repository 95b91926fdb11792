"""Golden tests of the request bodies sent to TikTok: the mapping body is assembled as
strings by Polars (not by a JSON encoder), so its exact bytes are pinned, and every body is
checked against the shapes documented in /work/shared/research/tiktok_api.md.

Goldens live in golden/ as indented JSON; a mapping body must equal the compact orjson
encoding of its golden byte for byte. After an intended change, regenerate them with
`TESSERA_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/distributor/destinations/tiktok`
and review the diff; by default the tests only compare.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from distributor.destinations.base import ID_COLUMNS, Action
from distributor.destinations.tiktok.payloads import (
    ID_SCHEMA,
    access_token,
    batch_data,
    create_audience,
    delete_audience,
    mapping,
    permission_probe,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TESSERA_UPDATE_GOLDEN") == "1"

ADVERTISER = "7646349875793182738"  # 19 digits, as TikTok's are (research §1.1)
AUDIENCE = "23856594064540489"  # RudderStack's fixture (research §1.1)

# The three hashes of Segment's documented mapping body (research §1.4.3).
SEGMENT_EMAIL = "584c4423c421df49955759498a71495aba49b8780eb9387dff333b6f0982c777"
SEGMENT_PHONE = "c775e7b757ede630cd0aa1113bd102661ab38829ca52a6422ab782862f268646"
SEGMENT_IDFA = "0315b4020af3eccab7706679580ac87a710d82970733b8719e70af9b57e7b9e6"

# Research §1.4.3: "Accepted id_schema values".
ACCEPTED_ID_SCHEMAS = {
    "EMAIL_SHA256",
    "PHONE_SHA256",
    "IDFA_SHA256",
    "AAID_SHA256",
    "IDFA_MD5",
    "AAID_MD5",
}


def h(text: str) -> str:
    """A fixed SHA-256 id, lowercase hex as plans carry them."""
    return hashlib.sha256(text.encode()).hexdigest()


def frame(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> pl.DataFrame:
    """A plan batch: one Utf8 column per id column, row-aligned, null for a missing id."""
    return pl.DataFrame(
        [list(row) for row in rows], schema=dict.fromkeys(columns, pl.Utf8), orient="row"
    )


def golden(name: str, actual: Any) -> Any:
    """The stored golden for `name` (rewritten from `actual` under TESSERA_UPDATE_GOLDEN=1)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(orjson.dumps(actual, option=orjson.OPT_INDENT_2) + b"\n")
    if not path.exists():
        pytest.fail(f"{path} is missing: run with TESSERA_UPDATE_GOLDEN=1 and review it")
    return orjson.loads(path.read_bytes())


def assert_mapping_shape(body: Any) -> None:
    """segment/mapping/ as research §1.4.3 documents it."""
    assert list(body) == ["advertiser_ids", "action", "id_schema", "batch_data"]
    assert isinstance(body["advertiser_ids"], list)
    assert len(body["advertiser_ids"]) == 1
    assert all(isinstance(a, str) and a.isdigit() for a in body["advertiser_ids"])
    assert body["action"] in {"add", "delete"}
    assert set(body["id_schema"]) <= ACCEPTED_ID_SCHEMAS
    assert len(body["batch_data"]) <= 10_000
    for row in body["batch_data"]:
        assert len(row) == len(body["id_schema"])  # position i is id_schema[i]
        for cell in row:
            assert cell == {} or (
                list(cell) == ["id", "audience_ids"]
                and isinstance(cell["id"], str)
                and all(isinstance(a, str) for a in cell["audience_ids"])
            )


MAPPING_GOLDENS = [
    pytest.param(
        "mapping_add.json",
        "add",
        list(ID_COLUMNS),
        [
            [SEGMENT_EMAIL, SEGMENT_PHONE, SEGMENT_IDFA, h("aaid-1")],
            [h("email-2"), h("phone-2"), h("idfa-2"), h("aaid-2")],
        ],
        id="add-all-columns",
    ),
    pytest.param(
        "mapping_delete.json",
        "delete",
        ["email_sha256"],
        [[h("email-1")], [h("email-2")], [h("email-3")]],
        id="delete-one-column",
    ),
    pytest.param(
        "mapping_mixed_schema.json",
        "add",
        ["phone_sha256", "email_sha256", "aaid_sha256"],
        [
            [h("phone-1"), None, h("aaid-1")],
            [None, h("email-2"), None],
            [h("phone-3"), h("email-3"), h("aaid-3")],
            [None, None, None],
        ],
        id="mixed-schema-missing-ids",
    ),
    pytest.param("mapping_empty.json", "add", ["email_sha256", "phone_sha256"], [], id="empty"),
]


@pytest.mark.parametrize(("name", "action", "columns", "rows"), MAPPING_GOLDENS)
def test_mapping_golden(
    name: str, action: Action, columns: list[str], rows: list[list[str | None]]
) -> None:
    """The exact bytes sent for a batch, pinned so a change to the builder shows up."""
    body = mapping(ADVERTISER, action, AUDIENCE, columns, frame(columns, rows))
    expected = golden(name, orjson.loads(body))
    assert orjson.loads(body) == expected
    assert body == orjson.dumps(expected)
    assert_mapping_shape(expected)


@pytest.mark.parametrize(("name", "action", "columns", "rows"), MAPPING_GOLDENS)
def test_mapping_cells(
    name: str, action: Action, columns: list[str], rows: list[list[str | None]]
) -> None:
    """TikTok's names in plan order, `{}` for a missing id, the audience in every present
    cell, one row per input row in input order."""
    parsed = orjson.loads(mapping(ADVERTISER, action, AUDIENCE, columns, frame(columns, rows)))
    assert parsed["advertiser_ids"] == [ADVERTISER]
    assert parsed["action"] == action
    assert parsed["id_schema"] == [ID_SCHEMA[c] for c in columns]
    assert len(parsed["batch_data"]) == len(rows)
    for row, sent in zip(rows, parsed["batch_data"], strict=True):
        assert sent == [{} if v is None else {"id": v, "audience_ids": [AUDIENCE]} for v in row]


def test_id_schema_names() -> None:
    """Each plan column has TikTok's SHA-256 name (AAID is GAID; never IDFA for Android)."""
    assert ID_SCHEMA == {
        "email_sha256": "EMAIL_SHA256",
        "phone_sha256": "PHONE_SHA256",
        "idfa_sha256": "IDFA_SHA256",
        "aaid_sha256": "AAID_SHA256",
    }
    assert set(ID_SCHEMA) == set(ID_COLUMNS)
    assert set(ID_SCHEMA.values()) <= ACCEPTED_ID_SCHEMAS


def test_mapping_reproduces_the_documented_body() -> None:
    """Segment's exact nock body for segment/mapping/ (research §1.4.3), built by us."""
    documented = {
        "advertiser_ids": ["123"],
        "action": "add",
        "id_schema": ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"],
        "batch_data": [
            [
                {"id": SEGMENT_EMAIL, "audience_ids": ["12345"]},
                {"id": SEGMENT_PHONE, "audience_ids": ["12345"]},
                {"id": SEGMENT_IDFA, "audience_ids": ["12345"]},
            ]
        ],
    }
    columns = ["email_sha256", "phone_sha256", "idfa_sha256"]
    ids = frame(columns, [[SEGMENT_EMAIL, SEGMENT_PHONE, SEGMENT_IDFA]])
    assert orjson.loads(mapping("123", "add", "12345", columns, ids)) == documented


def test_empty_frame() -> None:
    """An empty batch is an empty `batch_data` array, still valid JSON."""
    empty = frame(["email_sha256"], [])
    assert batch_data(empty, AUDIENCE) == b"[]"
    body = orjson.loads(mapping(ADVERTISER, "delete", AUDIENCE, ["email_sha256"], empty))
    assert body["batch_data"] == []


HEX_IDS = [h(str(n)) for n in range(6)]


@given(
    st.lists(st.sampled_from(ID_COLUMNS), min_size=1, max_size=4, unique=True),
    st.data(),
    st.from_regex(r"[0-9]{1,19}", fullmatch=True),
)
def test_batch_data_matches_a_scalar_oracle(
    columns: list[str], data: st.DataObject, audience_id: str
) -> None:
    """Row alignment for any pattern of missing ids: the Polars build equals, byte for byte,
    the obvious per-row Python build."""
    cell = st.one_of(st.none(), st.sampled_from(HEX_IDS))
    rows = data.draw(st.lists(st.lists(cell, min_size=len(columns), max_size=len(columns))))
    oracle = [
        [{} if v is None else {"id": v, "audience_ids": [audience_id]} for v in row] for row in rows
    ]
    assert batch_data(frame(columns, rows), audience_id) == orjson.dumps(oracle)


@pytest.mark.parametrize(
    "bad",
    [
        SEGMENT_EMAIL.upper(),
        SEGMENT_EMAIL[:10] + "G" + SEGMENT_EMAIL[11:],
        "",
        "not-hex",
        'ab"cd',
        "ab}],[{cd",
        "ab\ncd",
        "abcd\n",
        " abcd",
        "abcdé",
    ],
    ids=repr,
)
def test_non_lowercase_hex_is_refused(bad: str) -> None:
    """Ids are spliced into JSON unescaped, so anything but lowercase hex is refused
    before sending, wherever it sits, and the error does not echo the id."""
    columns = ["email_sha256", "phone_sha256"]
    ids = frame(columns, [[h("a"), h("b")], [h("c"), None], [None, bad]])
    with pytest.raises(ValueError, match="lowercase hex") as caught:
        mapping(ADVERTISER, "add", AUDIENCE, columns, ids)
    if bad.strip():
        assert bad not in str(caught.value)
    with pytest.raises(ValueError, match="lowercase hex"):
        batch_data(ids, AUDIENCE)


def test_permission_probe_golden() -> None:
    """An empty mapping: the keys of segment/mapping/ with no schema and no users."""
    probe = permission_probe(ADVERTISER)
    assert probe == golden("permission_probe.json", probe)
    assert_mapping_shape(probe)
    assert probe["id_schema"] == []
    assert probe["batch_data"] == []


def test_create_audience_golden() -> None:
    """segment/audience/ create (research §1.4.1), without the retired `id_type`."""
    body = create_audience(ADVERTISER, "Tessera — Spring VIP (EU)")
    assert body == golden("create_audience.json", body)
    assert set(body) == {"custom_audience_name", "advertiser_id", "action"}


def test_create_audience_reproduces_the_documented_body() -> None:
    """Segment's nock fixture for segment/audience/ create (research §1.4.1)."""
    assert create_audience("42884288", "The Super Mario Brothers Fans") == {
        "custom_audience_name": "The Super Mario Brothers Fans",
        "advertiser_id": "42884288",
        "action": "create",
    }


def test_delete_audience_golden() -> None:
    """segment/audience/ delete: `delete_audience_id`, as research §1.4.2 documents."""
    body = delete_audience(ADVERTISER, AUDIENCE)
    assert body == golden("delete_audience.json", body)
    assert set(body) == {"advertiser_id", "action", "delete_audience_id"}
    assert body["action"] == "delete"


def test_access_token_golden() -> None:
    """oauth2/access_token/: app_id, secret and auth_code, all three required (§1.6)."""
    body = access_token("7312345678901234567", "app-secret-fixture", "auth-code-fixture")
    assert body == golden("access_token.json", body)
    assert set(body) == {"app_id", "secret", "auth_code"}
