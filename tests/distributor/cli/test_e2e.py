"""End to end through the CLIs against the emulator (in process): partner files in,
`resolver serve --once`, `distributor distribute`, the one-account rule, `segments copy` to
a second account, a full refresh with removals, `sync`, and the request log's order."""

from __future__ import annotations

import itertools
import json
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from distributor.sandbox.handle import InProcessSandbox
from distributor.sandbox.state import SandboxOptions
from resolver.cli import main as resolver_main
from resolver.home import Home
from resolver.segments.catalog import Segments
from tests.distributor.helpers import add_account, cli, wire
from tests.resolver.inbox.support import csv_text, drop, people


def serve_once(home: Path) -> None:
    result = CliRunner().invoke(
        resolver_main,
        ["--home", str(home), "serve", "--once"],
        env={"TESSERA_INBOX__STABLE_SECONDS": "0"},
    )
    assert result.exit_code == 0, result.output


def audience_keys(sandbox: InProcessSandbox, audience_id: str) -> dict[str, set[str]]:
    return {k: v for k, v in sandbox.members(audience_id).items() if v}


def segment_keys(home: Path, name: str) -> dict[str, set[str]]:
    with Segments(Home.open(home)) as segments:
        frame = segments.members(name)
    found = {
        "EMAIL_SHA256": set(frame.get_column("email_sha256").drop_nulls()),
        "PHONE_SHA256": set(frame.get_column("phone_sha256").drop_nulls()),
    }
    return {k: v for k, v in found.items() if v}


@pytest.fixture
def wired(home: Path, fast_sandbox: InProcessSandbox) -> Path:
    wire(home, fast_sandbox)
    result = CliRunner().invoke(resolver_main, ["--home", str(home), "partners", "add", "acme"])
    assert result.exit_code == 0, result.output
    add_account(home, fast_sandbox, "first", n=0)
    add_account(home, fast_sandbox, "second", n=1)
    return home


def test_distribute_copy_refresh_and_sync(wired: Path, fast_sandbox: InProcessSandbox) -> None:
    sb = fast_sandbox
    home = Home.open(wired)
    drop(home, "acme", "v1.csv", csv_text(people(0, 3000, "Sports Fans")))
    serve_once(wired)

    dry = cli(wired, sb, "distribute", "sports fans", "--account", "first", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "nothing was sent" in dry.output
    assert fast_sandbox.audiences(fast_sandbox.advertiser(0)) == []

    first = cli(wired, sb, "distribute", "sports fans", "--account", "first", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)[0]
    assert report["entered"] == report["synced"] == 3000
    audience = report["audience_id"]
    assert audience_keys(fast_sandbox, audience) == segment_keys(wired, "Sports Fans")

    refused = cli(wired, sb, "distribute", "Sports Fans", "--account", "second")
    assert refused.exit_code != 0
    assert "segments copy" in refused.output

    copied = cli(wired, sb, "segments", "copy", "Sports Fans", "--name", "Sports Fans EU")
    assert copied.exit_code == 0, copied.output
    second = cli(wired, sb, "distribute", "sports fans eu", "--account", "second", "--json")
    assert second.exit_code == 0, second.output
    copy_audience = json.loads(second.output)[0]["audience_id"]

    # A full refresh: 500 leave, 400 join.
    drop(home, "acme", "v2.csv", csv_text(people(500, 2900, "Sports Fans")))
    serve_once(wired)
    fast_sandbox.reset_log()
    synced = cli(wired, sb, "sync", "--all", "--json")
    assert synced.exit_code == 0, synced.output
    reports = {r["segment"]: r for r in json.loads(synced.output)}
    assert reports["Sports Fans"]["deletes"] > 0
    assert reports["Sports Fans"]["adds"] > 0
    wanted = segment_keys(wired, "Sports Fans")
    assert audience_keys(fast_sandbox, audience) == wanted
    assert audience_keys(fast_sandbox, copy_audience) == wanted
    # Two distributions synced one after the other: each run's deletes precede its adds,
    # so the log reads delete… add… delete… add… (one add→delete turn, between the runs).
    actions = [e["action"] for e in fast_sandbox.requests() if e["path"] == "segment/mapping/"]
    turns = sum(1 for a, b in itertools.pairwise(actions) if (a, b) == ("add", "delete"))
    assert actions[0] == "delete"
    assert turns == 1

    status = cli(wired, sb, "status", "--json")
    rows = {r["segment"]: r for r in json.loads(status.output)}
    assert rows["Sports Fans"]["synced"] == 2900
    assert rows["Sports Fans EU"]["synced"] == 2900
    listing = cli(wired, sb, "segments", "list")
    assert "first" in listing.output
    assert "second" in listing.output
    shown = cli(wired, sb, "segments", "show", "SPORTS fans")
    assert shown.exit_code == 0, shown.output
    assert "Versions" in shown.output


def test_deletes_of_every_distribution_precede_its_adds(
    wired: Path, fast_sandbox: InProcessSandbox
) -> None:
    sb = fast_sandbox
    home = Home.open(wired)
    drop(home, "acme", "a.csv", csv_text(people(0, 25_000, "big")))
    serve_once(wired)
    assert cli(wired, sb, "distribute", "big", "--account", "first").exit_code == 0
    drop(home, "acme", "b.csv", csv_text(people(12_000, 25_000, "big")))
    serve_once(wired)
    fast_sandbox.reset_log()
    result = cli(wired, sb, "sync", "big", "--json")
    assert result.exit_code == 0, result.output
    actions = [e["action"] for e in fast_sandbox.requests() if e["path"] == "segment/mapping/"]
    assert actions.count("delete") >= 2  # 12,000 leavers: more than one batch
    assert actions.count("add") >= 2
    last_delete = max(i for i, a in enumerate(actions) if a == "delete")
    first_add = actions.index("add")
    assert last_delete < first_add


def test_long_segment_names_fit_and_survive_a_truncating_platform(
    home: Path, clean_env: None
) -> None:
    options = SandboxOptions(user_base_size=1000, requests_per_second=0, truncate_names=True)
    with InProcessSandbox(options) as sb:
        wire(home, sb)
        add_account(home, sb, "first", n=0)
        CliRunner().invoke(resolver_main, ["--home", str(home), "partners", "add", "acme"])
        long_name = "Fans of long-distance running and cycling events in the Pacific Northwest"
        drop(Home.open(home), "acme", "a.csv", csv_text(people(0, 50, long_name)))
        serve_once(home)
        first = cli(home, sb, "distribute", long_name, "--account", "first", "--json")
        assert first.exit_code == 0, first.output
        report = json.loads(first.output)[0]
        assert len(report["audience_name"]) <= 70
        (audience,) = sb.audiences(sb.advertiser())
        assert audience["name"] == report["audience_name"]  # not cut by the platform
        again = cli(home, sb, "sync", long_name, "--json")
        assert again.exit_code == 0, again.output
        assert len(sb.audiences(sb.advertiser())) == 1


def maid_rows(count: int) -> list[dict[str, str]]:
    """Half the people with an email and an untyped MAID, half with the MAID alone."""
    return [
        {
            "email": f"m{n}@example.com" if n % 2 else "",
            "maid": str(uuid.UUID(int=n + 1)),
            "segments": "devices",
        }
        for n in range(count)
    ]


def test_maids_under_an_untyped_header_reach_tiktok(
    wired: Path, fast_sandbox: InProcessSandbox
) -> None:
    """MAIDs under `maid` were counted valid and the people shown synced, yet none was
    sent: they go as both IDFA and AAID unless the partner says which (issue 9, item 1)."""
    drop(Home.open(wired), "acme", "m.csv", csv_text(maid_rows(40)))
    serve_once(wired)
    result = cli(wired, fast_sandbox, "distribute", "devices", "--account", "first", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)[0]
    assert report["ids_added"] == {"email_sha256": 20, "idfa_sha256": 40, "aaid_sha256": 40}
    assert report["synced"] == report["entered"] == 40
    held = audience_keys(fast_sandbox, report["audience_id"])
    assert len(held["IDFA_SHA256"]) == len(held["AAID_SHA256"]) == 40
    # A partner who says its MAIDs are Android ad IDs gets them sent as AAID only.
    config = (wired / "config.toml").read_text() + '[partners.acme]\nmaid_type = "gaid"\n'
    (wired / "config.toml").write_text(config)
    drop(
        Home.open(wired),
        "acme",
        "m2.csv",
        csv_text([{**r, "segments": "android"} for r in maid_rows(10)]),
    )
    serve_once(wired)
    second = cli(wired, fast_sandbox, "distribute", "android", "--account", "first", "--json")
    assert json.loads(second.output)[0]["ids_added"] == {"email_sha256": 5, "aaid_sha256": 10}
