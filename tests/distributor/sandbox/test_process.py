"""The emulator as a real HTTP server in a subprocess: its start line, real requests over
a socket (a dropped connection included), state kept across a restart, clean SIGTERM and
SIGINT, and the in-process loopback behaving as the socket does."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import httpx
import pytest

from distributor.sandbox.handle import SandboxHandle
from distributor.sandbox.process import SandboxProcess, start_sandbox


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def add_one(sb: SandboxHandle, email: str) -> str:
    client, advertiser = sb.client(sb.token()), sb.advertiser()
    created = client.post(
        "segment/audience/",
        json={"custom_audience_name": "fans", "advertiser_id": advertiser, "action": "create"},
    ).json()
    audience = str(created["data"]["audience_id"])
    body = {
        "advertiser_ids": [advertiser],
        "action": "add",
        "id_schema": ["EMAIL_SHA256"],
        "batch_data": [[{"id": sha(email), "audience_ids": [audience]}]],
    }
    assert client.post("segment/mapping/", json=body).json()["code"] == 0
    return audience


def test_start_line_describes_the_sandbox(sandbox_process: SandboxProcess) -> None:
    info = sandbox_process.info
    assert info["base_url"].startswith("http://127.0.0.1:")
    assert info["base_url"].endswith("/open_api/v1.3/")
    assert len(info["advertisers"]) >= 2
    for advertiser in info["advertisers"]:
        assert len(advertiser["advertiser_id"]) == 19
        assert set(advertiser["tokens"]) == {"admin", "operator", "analyst"}


@pytest.mark.parametrize("fixture", ["sandbox_process", "fast_sandbox"])
def test_real_requests_and_a_dropped_connection(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    """Over a socket and through the in-process loopback alike."""
    sb: SandboxHandle = request.getfixturevalue(fixture)
    audience = add_one(sb, "a@example.com")
    assert sb.members(audience) == {"EMAIL_SHA256": {sha("a@example.com")}}
    sb.faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        sb.client(sb.token()).get("user/info/")
    sb.faults()
    assert sb.client(sb.token()).get("user/info/").json()["code"] == 0


def test_state_persists_across_restart_and_sigterm_is_clean(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    with start_sandbox("--users", "1000", state=state) as first:
        audience = add_one(first, "kept@x.com")
        token = first.token()
        assert first.stop(signal.SIGTERM) == 0
    assert state.stat().st_mode & 0o777 == 0o600
    with start_sandbox("--users", "1000", state=state) as second:
        assert second.token() == token
        assert second.members(audience) == {"EMAIL_SHA256": {sha("kept@x.com")}}
        assert second.stop(signal.SIGINT) == 0
