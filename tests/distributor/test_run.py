"""Distribution runs against the emulator: exact delivery, record sync with deletes first,
faults and rate limits, revoked tokens, refused rows isolated, the retry window across
restarts (in process), and kill -9 of a distributor process mid-upload (a real server)."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from distributor.errors import AuthError, RuleError, RunStopped
from distributor.metrics import RunReport
from distributor.sandbox.handle import InProcessSandbox, SandboxHandle
from distributor.sandbox.process import SandboxProcess
from tests.distributor.helpers import (
    accounts_add,
    add_account,
    expected,
    members,
    wire,
    workspace,
)


def _run(home: Path, sandbox: SandboxHandle, segment: str, people: pl.DataFrame) -> RunReport:
    with workspace(home, sandbox) as ws:
        return ws.distribute(segment, people, "acme")


def test_distribute_then_sync_deletes_before_adds(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    sb = fast_sandbox
    wire(home, sb)
    add_account(home, sb)
    ws = workspace(home, sb)
    first = members(range(30_000))
    report = ws.distribute("fans", first, "acme")
    assert report.status == "done"
    assert report.audience_id is not None
    assert sb.members(report.audience_id or "") == expected(first)
    assert report.entered == 30_000
    assert report.not_synced == sum(1 for k in range(30_000) if k % 7 == 6)
    assert report.synced == report.entered - report.not_synced
    assert report.pending == report.errored == 0
    # dry run sends nothing
    since = time.time()
    changed = members(list(range(5_000, 40_000)), salt="")
    changed = changed.with_columns(
        changed["email_sha256"].scatter(list(range(0, 35_000, 10)), None)
    )
    dry = ws.sync("fans", changed, dry_run=True)
    assert dry.status == "dry-run"
    assert dry.deletes > 0
    assert dry.adds > 0
    assert not [r for r in sb.requests() if r["time"] >= since and r["path"] == "segment/mapping/"]
    report = ws.sync("fans", changed)
    assert sb.members(report.audience_id or "") == expected(changed)
    log = [r for r in sb.requests() if r["time"] >= since and r["action"]]
    actions = [r["action"] for r in log if r["code"] == 0]
    assert "delete" in actions
    assert actions == sorted(actions, key=["delete", "add"].index)
    # nothing left to do: an empty plan
    again = ws.sync("fans", changed)
    assert again.batches == 0
    assert again.synced == again.entered - again.not_synced


def test_second_account_is_refused(home: Path, fast_sandbox: InProcessSandbox) -> None:
    wire(home, fast_sandbox)
    add_account(home, fast_sandbox)
    add_account(home, fast_sandbox, name="other", n=1)
    with workspace(home, fast_sandbox) as ws:
        ws.distribute("fans", members(range(100)), "acme")
        with pytest.raises(RuleError, match="segments copy fans --name"):
            ws.distribute("fans", members(range(100)), "other")


def test_faults_and_rate_limits(home: Path, sandbox: InProcessSandbox) -> None:
    sb = sandbox
    sb.limits(per_second=20, per_minute=600)
    wire(home, sb, batch_size=500, concurrency=8)
    config = (
        (home / "config.toml")
        .read_text()
        .replace("[tiktok]\n", "[tiktok]\nrequests_per_second = 20\nrequests_per_minute = 600\n")
    )
    (home / "config.toml").write_text(config)
    add_account(home, sb)
    sb.faults(throttle_burst=5, error_rate_5xx=0.2, drop_rate=0.1, latency_ms=20)
    people = members(range(15_000))
    since = time.time()
    report = _run(home, sb, "faulty", people)
    sb.faults()
    assert report.status == "done"
    assert sb.members(report.audience_id or "") == expected(people)
    log = [r["time"] for r in sb.requests() if r["time"] >= since]
    codes = collections.Counter(str(r["code"]) for r in sb.requests() if r["time"] >= since)
    assert codes["503"] > 0
    assert any(c.startswith("dropped") for c in codes)
    assert sum(n for c, n in codes.items() if "40100" in c) >= 5
    log.sort()
    j = 0
    for i, t in enumerate(log):
        while log[j] <= t - 1.0:
            j += 1
        assert i - j + 1 <= 20, "more than 20 requests in one second"


def test_revoked_token_stops_then_reauthorize_and_sync(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    sb = fast_sandbox
    wire(home, sb, batch_size=1000)
    add_account(home, sb)
    ws = workspace(home, sb)
    first = members(range(2_000))
    report = ws.distribute("fans", first, "acme")
    sb.faults(revoke_after=3)  # the token stops working mid-upload
    bigger = members(range(20_000))
    started = time.monotonic()
    with pytest.raises(RunStopped, match="re-authorize") as stopped:
        ws.sync("fans", bigger)
    assert time.monotonic() - started < 10
    assert stopped.value.report.status == "stopped"
    assert stopped.value.report.pending > 0
    # Revoked before a run starts: it stops at once too, before anything is planned.
    with pytest.raises(AuthError, match="re-authorize"):
        ws.sync("fans", bigger)
    code = sb.auth_code([sb.advertiser()], role="ADMIN")
    again = accounts_add(home, sb, sb.advertiser(), "acme", code=code)
    assert again.exit_code == 0, again.output
    assert "re-authorized" in again.output
    final = ws.sync("fans", bigger)
    assert sb.members(report.audience_id or "") == expected(bigger)
    assert final.pending == 0


CRASH_SCRIPT = """
import sys
from distributor import Workspace
from tests.distributor.helpers import members
people = members(range(int(sys.argv[2])))
print(Workspace.open(sys.argv[1]).distribute("fans", people, "acme").status, flush=True)
"""


def _killed_after(sb: SandboxProcess, argv: list[str], path: str, extra: float) -> None:
    """Start a distributor process; SIGKILL it `extra` seconds after the emulator logged
    its first request to `path` (or when it ends by itself)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    since = time.time()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if any(e["path"] == path and e["time"] >= since for e in sb.requests()):
            break
        time.sleep(0.02)
    time.sleep(extra)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_kill_9_mid_upload_then_resume(home: Path, sandbox_process: SandboxProcess) -> None:
    """Killed right after the audience is created (its id may not be recorded: the next
    run adopts it by name), then twice at random moments mid-upload; a last run finishes
    with exactly one audience holding exactly the segment."""
    sb = sandbox_process
    wire(home, sb, batch_size=500, concurrency=4)
    add_account(home, sb)
    sb.faults(latency_ms=30)
    size = 40_000
    rng = random.Random(5)
    argv = [sys.executable, "-c", CRASH_SCRIPT, str(home), str(size)]
    _killed_after(sb, argv, "segment/audience/", rng.uniform(0.0, 0.05))
    for _ in range(2):
        _killed_after(sb, argv, "segment/mapping/", rng.uniform(0.05, 0.5))
    sb.faults()
    report = _run(home, sb, "fans", members(range(size)))
    assert report.status == "done"
    audiences = sb.audiences(sb.advertiser())
    assert len(audiences) == 1
    assert sb.members(report.audience_id or "") == expected(members(range(size)))


def test_rows_a_batch_is_refused_for_are_isolated(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    """A 40002 for a batch splits it in halves until the refused rows stand alone: they
    are marked errored, every other member is delivered, and a later sync retries them."""
    sb = fast_sandbox
    wire(home, sb)
    add_account(home, sb)
    people = members(range(25_000))
    bad_rows = [3, 12_345, 24_990]
    poison = [people["email_sha256"][i] for i in bad_rows]
    sb.faults(poison_ids=poison)
    report = _run(home, sb, "fans", people)
    assert report.status == "partial"  # finished, with members errored: sync again
    assert report.errored == len(bad_rows)
    assert report.synced == report.entered - report.not_synced - len(bad_rows)
    held = sb.members(report.audience_id or "")
    want = expected(people)
    assert held["EMAIL_SHA256"] == want["EMAIL_SHA256"] - set(poison)
    mapping = [e for e in sb.requests() if e["path"] == "segment/mapping/"]
    assert sum(1 for e in mapping if e["code"] == 40002) < 3 * 2 * 15  # bisection, not a storm
    sb.faults()
    again = workspace(home, sb).sync("fans", people)
    assert again.errored == 0
    assert sb.members(report.audience_id or "") == want


def test_retry_window_spans_restarts(home: Path, fast_sandbox: InProcessSandbox) -> None:
    """A run killed 13 hours ago opened the retry window: after a restart, users still
    failing are marked errored at once instead of being retried for 13 more hours."""
    sb = fast_sandbox
    wire(home, sb)
    add_account(home, sb)
    first = _run(home, sb, "fans", members(range(2_000)))
    ws = workspace(home, sb)
    (dist,) = ws.ledger.distributions.all("fans")
    ws.ledger.database.write(
        "INSERT INTO runs (distribution_id, started_at, status, rows) VALUES (?, ?, 'running', 0)",
        (dist.id, time.time() - 13 * 3600 - 60),
    )
    sb.faults(error_rate_5xx=1.0)
    started = time.monotonic()
    report = ws.sync("fans", members(range(1_000, 3_000)))
    assert time.monotonic() - started < 30
    assert report.errored > 0
    assert report.synced < report.entered - report.not_synced
    sb.faults()
    # The killed run is behind us now: the next sync has a whole window and finishes.
    final = ws.sync("fans", members(range(1_000, 3_000)))
    assert final.errored == 0
    assert sb.members(first.audience_id or "") == expected(members(range(1_000, 3_000)))


def test_every_distributor_file_is_private_whatever_the_umask(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    """The ledger, its WAL, the held snapshots and the plans are 0600 in 0700 folders even
    under a permissive umask (issue 9, item 9)."""
    old = os.umask(0o022)
    try:
        wire(home, fast_sandbox)
        add_account(home, fast_sandbox)
        _run(home, fast_sandbox, "fans", members(range(500)))
    finally:
        os.umask(old)
    state = home / "state"
    found = sorted(state.rglob("*"))
    assert any(p.name.startswith("distributor.db") for p in found)
    assert any(p.parent.name == "held" for p in found)
    for path in [state, *found]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
