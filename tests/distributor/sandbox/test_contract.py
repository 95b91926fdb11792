"""Contract tests of the TikTok emulator: TikTok's request and answer shapes, codes,
roles, limits and faults, through httpx against the emulator's ASGI app in process (the
same app the real server runs; test_process.py covers what needs the process)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import httpx
import numpy as np
import pytest

from distributor.sandbox.handle import InProcessSandbox
from distributor.sandbox.state import SandboxOptions
from resolver.sample import canonical_identifiers

Sandbox = InProcessSandbox


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def api(sb: Sandbox, role: str = "admin", n: int = 0) -> httpx.Client:
    return sb.client(sb.token(role, n))


def create(client: httpx.Client, advertiser: str, name: str = "fans") -> dict[str, Any]:
    return dict(
        client.post(
            "segment/audience/",
            json={"custom_audience_name": name, "advertiser_id": advertiser, "action": "create"},
        ).json()
    )


def mapping(
    client: httpx.Client,
    advertiser: str,
    audience: str,
    action: str,
    schema: list[str],
    rows: list[list[dict[str, Any]]],
) -> dict[str, Any]:
    return dict(
        client.post(
            "segment/mapping/",
            json={
                "advertiser_ids": [advertiser],
                "action": action,
                "id_schema": schema,
                "batch_data": rows,
            },
        ).json()
    )


def cell(value: str, audience: str) -> dict[str, Any]:
    return {"id": value, "audience_ids": [audience]}


def test_envelope_and_token_errors(sandbox: Sandbox) -> None:
    anonymous = sandbox.client().get("user/info/").json()
    assert anonymous["code"] == 40104
    assert set(anonymous) == {"code", "message", "request_id", "data"}
    bad = sandbox.client("nope").get("user/info/")
    assert bad.status_code == 200
    assert bad.json()["code"] == 40105
    ok = api(sandbox).get("user/info/").json()
    assert ok["code"] == 0
    assert ok["message"] == "OK"


def test_connector_request_shapes_are_accepted(sandbox: Sandbox) -> None:
    """Segment's and RudderStack's exact bodies (research §1.4.1 and §1.4.3)."""
    client, advertiser = api(sandbox), sandbox.advertiser()
    created = client.post(
        "segment/audience/",
        json={
            "custom_audience_name": "The Super Mario Brothers Fans",
            "advertiser_id": advertiser,
            "action": "create",
            "id_type": "EMAIL_SHA256",
        },
    ).json()
    assert created["code"] == 0
    audience = created["data"]["audience_id"]
    body = {
        "advertiser_ids": [advertiser],
        "action": "add",
        "id_schema": ["EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256"],
        "batch_data": [
            [
                cell("584c4423c421df49955759498a71495aba49b8780eb9387dff333b6f0982c777", audience),
                cell("c775e7b757ede630cd0aa1113bd102661ab38829ca52a6422ab782862f268646", audience),
                cell("0315b4020af3eccab7706679580ac87a710d82970733b8719e70af9b57e7b9e6", audience),
            ],
            [cell(sha("b@x.com"), audience), {}, {}],
        ],
    }
    assert client.post("segment/mapping/", json=body).json()["code"] == 0
    assert len(sandbox.members(audience)["EMAIL_SHA256"]) == 2


def test_membership_is_idempotent_per_identifier(fast_sandbox: Sandbox) -> None:
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    rows = [[cell(sha(f"u{i}"), audience)] for i in range(50)]
    for _ in range(2):
        assert mapping(client, advertiser, audience, "add", ["EMAIL_SHA256"], rows)["code"] == 0
    assert len(fast_sandbox.members(audience)["EMAIL_SHA256"]) == 50
    for _ in range(2):
        result = mapping(client, advertiser, audience, "delete", ["EMAIL_SHA256"], rows[:20])
        assert result["code"] == 0
    assert len(fast_sandbox.members(audience)["EMAIL_SHA256"]) == 30


@pytest.mark.parametrize(
    ("schema", "rows", "fragment"),
    [
        (["EMAIL_SHA256", "PHONE_SHA256"], [[{"id": "a" * 64, "audience_ids": ["A"]}]], "align"),
        (["EMAIL_SHA256"], [[{"id": "a" * 63, "audience_ids": ["A"]}]], "64"),
        (["EMAIL_SHA256"], [[{"id": "A" * 64, "audience_ids": ["A"]}]], "hex"),
        (["IDFA_MD5"], [[{"id": "a" * 64, "audience_ids": ["A"]}]], "32"),
        (["EMAIL"], [[{"id": "a" * 64, "audience_ids": ["A"]}]], "unsupported"),
        (["EMAIL_SHA256"], [], "non-empty"),
        (["EMAIL_SHA256"], [[{"id": "a" * 64}]], "audience_ids"),
    ],
)
def test_malformed_batches_are_refused_with_40002(
    fast_sandbox: Sandbox, schema: list[str], rows: list[list[dict[str, Any]]], fragment: str
) -> None:
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    fixed = [
        [{**c, "audience_ids": [audience]} if c.get("audience_ids") else c for c in row]
        for row in rows
    ]
    answer = mapping(client, advertiser, audience, "add", schema, fixed)
    assert answer["code"] == 40002
    assert fragment in answer["message"]
    assert fast_sandbox.members(audience) == {}


def test_oversize_batch_and_foreign_audience(fast_sandbox: Sandbox) -> None:
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    big = [[cell(sha(f"u{i}"), audience)] for i in range(10_001)]
    answer = mapping(client, advertiser, audience, "add", ["EMAIL_SHA256"], big)
    assert answer["code"] == 40002
    assert "10000" in answer["message"]
    assert mapping(client, advertiser, audience, "add", ["EMAIL_SHA256"], big[:10_000])["code"] == 0
    other = api(fast_sandbox, n=1)
    foreign = mapping(other, fast_sandbox.advertiser(1), audience, "add", ["EMAIL_SHA256"], big[:1])
    assert foreign["code"] == 40002
    assert "invalid audience ID" in foreign["message"]
    # A token for another advertiser has no permission on this one.
    assert mapping(other, advertiser, audience, "add", ["EMAIL_SHA256"], big[:1])["code"] == 40001


def test_roles_analyst_cannot_manage(fast_sandbox: Sandbox) -> None:
    advertiser = fast_sandbox.advertiser()
    analyst, operator = api(fast_sandbox, "analyst"), api(fast_sandbox, "operator")
    assert create(analyst, advertiser)["code"] == 40001
    assert create(operator, advertiser)["code"] == 0
    listed = analyst.get("dmp/custom_audience/list/", params={"advertiser_id": advertiser}).json()
    assert listed["code"] == 0
    assert listed["data"]["page_info"]["total_number"] == 1


def test_audience_cap_names_list_get_and_delete(fast_sandbox: Sandbox) -> None:
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    assert create(client, advertiser, "")["code"] == 40002
    assert create(client, advertiser, "x" * 129)["code"] == 40002
    ids = [create(client, advertiser, f"a{i}")["data"]["audience_id"] for i in range(400)]
    over = create(client, advertiser, "one too many")
    assert over["code"] == 40002
    assert "400" in over["message"]
    page = client.get(
        "dmp/custom_audience/list/",
        params={"advertiser_id": advertiser, "page": 4, "page_size": 100},
    ).json()["data"]
    assert page["page_info"] == {"page": 4, "page_size": 100, "total_number": 400, "total_page": 4}
    assert len(page["list"]) == 100
    got = client.get(
        "dmp/custom_audience/get/",
        params={"advertiser_id": advertiser, "custom_audience_ids": json.dumps(ids[:2])},
    ).json()
    assert [i["audience_details"]["audience_id"] for i in got["data"]["list"]] == ids[:2]
    deleted = client.post(
        "dmp/custom_audience/delete/",
        json={"advertiser_id": advertiser, "custom_audience_ids": ids[:1]},
    ).json()
    assert deleted["code"] == 0
    seg_delete = client.post(
        "segment/audience/",
        json={"advertiser_id": advertiser, "action": "delete", "delete_audience_id": ids[1]},
    ).json()
    assert seg_delete["code"] == 0
    assert create(client, advertiser, "room again")["code"] == 0
    missing = client.get(
        "dmp/custom_audience/get/",
        params={"advertiser_id": advertiser, "custom_audience_ids": json.dumps(ids[:1])},
    ).json()
    assert missing["code"] == 40002


def test_cover_num_counts_matched_users_from_1000(fast_sandbox: Sandbox) -> None:
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    seed = fast_sandbox.info["user_base"]["seed"]
    emails = canonical_identifiers(np.arange(1200), seed)["email"].to_list()
    rows = [[cell(sha(e), audience)] for e in emails]

    def cover() -> int:
        data = client.get(
            "dmp/custom_audience/get/",
            params={"advertiser_id": advertiser, "custom_audience_ids": json.dumps([audience])},
        ).json()
        return int(data["data"]["list"][0]["audience_details"]["cover_num"])

    mapping(client, advertiser, audience, "add", ["EMAIL_SHA256"], rows[:999])
    assert cover() == 0
    mapping(client, advertiser, audience, "add", ["EMAIL_SHA256"], rows[999:])
    assert cover() == 1200


def test_oauth_code_exchange_advertisers_and_revoke(sandbox: Sandbox) -> None:
    advertiser = sandbox.advertiser()
    code = sandbox.auth_code([advertiser], "OPERATOR")
    base = sandbox.client()
    bad = base.post(
        "oauth2/access_token/",
        json={"app_id": sandbox.info["app_id"], "secret": "wrong", "auth_code": code},
    ).json()
    assert bad["code"] == 40101
    good = base.post(
        "oauth2/access_token/",
        json={
            "app_id": sandbox.info["app_id"],
            "secret": sandbox.info["app_secret"],
            "auth_code": code,
            "grant_type": "authorization_code",
        },
    ).json()
    assert good["code"] == 0
    assert good["data"]["advertiser_ids"] == [advertiser]
    token = good["data"]["access_token"]
    reused = base.post(
        "oauth2/access_token/",
        json={
            "app_id": sandbox.info["app_id"],
            "secret": sandbox.info["app_secret"],
            "auth_code": code,
        },
    ).json()
    assert reused["code"] == 40110
    listed = base.get(
        "oauth2/advertiser/get/",
        headers={"Access-Token": token},
        params={"app_id": sandbox.info["app_id"], "secret": sandbox.info["app_secret"]},
    ).json()
    assert listed["data"]["list"][0]["advertiser_id"] == advertiser
    info = base.get(
        "advertiser/info/",
        headers={"Access-Token": token},
        params={"advertiser_ids": json.dumps([advertiser])},
    ).json()
    assert info["data"]["list"][0]["advertiser_id"] == advertiser
    revoked = base.post(
        "oauth2/revoke_token/",
        json={
            "app_id": sandbox.info["app_id"],
            "secret": sandbox.info["app_secret"],
            "access_token": token,
        },
    ).json()
    assert revoked["code"] == 0
    assert base.get("user/info/", headers={"Access-Token": token}).json()["code"] == 40105


def test_rate_limits_answer_40100(sandbox: Sandbox) -> None:
    defaults = sandbox.control.post("limits", json={}).json()
    assert defaults == {"requests_per_second": 50, "requests_per_minute": 3000}
    sandbox.limits(5, 0)
    client = api(sandbox)
    codes = [client.get("user/info/").json()["code"] for _ in range(6)]
    assert codes == [0, 0, 0, 0, 0, 40100]
    time.sleep(1.05)
    assert client.get("user/info/").json()["code"] == 0
    sandbox.limits(0, 5)
    other = api(sandbox, n=1)
    codes = [other.get("user/info/").json()["code"] for _ in range(6)]
    assert codes == [0, 0, 0, 0, 0, 40100]


def test_faults_5xx_burst_latency_drop_and_log(fast_sandbox: Sandbox) -> None:
    client = api(fast_sandbox)
    fast_sandbox.faults(throttle_burst=2)
    assert [client.get("user/info/").json()["code"] for _ in range(3)] == [40100, 40100, 0]
    fast_sandbox.faults(error_rate_5xx=1.0)
    failed = client.get("user/info/")
    assert failed.status_code == 503
    fast_sandbox.faults()
    fast_sandbox.faults(drop_rate=1.0)
    with pytest.raises(httpx.HTTPError):
        client.get("user/info/")
    fast_sandbox.faults()
    fast_sandbox.faults(latency_ms=300)
    started = time.monotonic()
    assert client.get("user/info/").json()["code"] == 0
    assert time.monotonic() - started >= 0.3
    fast_sandbox.faults()
    log = fast_sandbox.requests()
    assert {"method", "path", "action", "count", "time", "code"} <= set(log[-1])
    assert [e["code"] for e in log[:3]] == [40100, 40100, 0]


def test_long_names_are_kept_or_truncated_when_asked() -> None:
    long = "n" * 100
    with InProcessSandbox(SandboxOptions(user_base_size=1000)) as plain:
        client = api(plain)
        made = create(client, plain.advertiser(), long)["data"]["audience_id"]
        assert [a["name"] for a in plain.audiences(plain.advertiser())] == [long]
        assert made
    with InProcessSandbox(SandboxOptions(user_base_size=1000, truncate_names=True)) as cutting:
        client = api(cutting)
        create(client, cutting.advertiser(), long)
        create(client, cutting.advertiser(), "s" * 70)
        names = sorted(a["name"] for a in cutting.audiences(cutting.advertiser()))
        assert names == sorted(["n" * 67 + "...", "s" * 70])


def test_malformed_schema_and_smuggled_ids_are_40002_not_500(fast_sandbox: Sandbox) -> None:
    """An id_schema of objects was an HTTP 500 with a traceback; two hashes joined by a
    newline were stored as one member. TikTok answers both with 40002 (issue 9, item 17)."""
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    objects = client.post(
        "segment/mapping/",
        json={
            "advertiser_ids": [advertiser],
            "action": "add",
            "id_schema": [{"type": "EMAIL_SHA256"}],
            "batch_data": [[cell(sha("a"), audience)]],
        },
    )
    assert objects.status_code == 200
    assert objects.json()["code"] == 40002
    smuggled = sha("a") + "\n" + sha("b")
    answer = mapping(
        client, advertiser, audience, "add", ["EMAIL_SHA256"], [[cell(smuggled, audience)]]
    )
    assert answer["code"] == 40002
    assert fast_sandbox.members(audience) == {}


def test_paths_without_the_trailing_slash(fast_sandbox: Sandbox) -> None:
    """TikTok's own SDKs call e.g. `dmp/custom_audience/get` without the slash."""
    client, advertiser = api(fast_sandbox), fast_sandbox.advertiser()
    audience = create(client, advertiser)["data"]["audience_id"]
    got = client.get(
        "dmp/custom_audience/get",
        params={"advertiser_id": advertiser, "custom_audience_ids": json.dumps([audience])},
    ).json()
    assert got["code"] == 0
    assert got["data"]["list"][0]["audience_details"]["audience_id"] == audience
