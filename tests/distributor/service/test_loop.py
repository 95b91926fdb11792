"""The always-on service (issue 12): a file dropped into the inbox reaches the emulator's
audience with no operator command, freshness is measured, paused distributions are left
alone, and a failing one is retried later, not at every poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from distributor.freshness import Freshness
from distributor.sandbox.handle import InProcessSandbox
from distributor.service import Serve
from distributor.workspace import Workspace
from resolver.home import Home
from resolver.state.control import Control
from tests.distributor.cli.test_e2e import audience_keys, segment_keys
from tests.distributor.cli.test_outcomes import SEGMENT, _home, _status
from tests.distributor.helpers import cli
from tests.resolver.inbox.support import csv_text, drop, people

SERVICE = "[service]\nflush_seconds = 0.2\npoll_seconds = 0.05\nretry_initial_seconds = 30\n"


def _serving(tmp_path: Path, sandbox: InProcessSandbox) -> Path:
    home = _home(tmp_path, sandbox)
    with (home / "config.toml").open("a") as config:
        config.write(SERVICE + "[inbox]\nstable_seconds = 0\ninterval_seconds = 0.1\n")
    return home


@pytest.fixture
def running(tmp_path: Path, fast_sandbox: InProcessSandbox) -> Iterator[tuple[Path, Serve]]:
    """A home distributed once, with `distributor serve` running on a thread."""
    home = _serving(tmp_path, fast_sandbox)
    service = Serve(Home.open(home), fast_sandbox.transport(), inbox=True)
    thread = threading.Thread(target=lambda: service.run(signals=False))
    thread.start()
    try:
        yield home, service
    finally:
        service.stop()
        thread.join(30)
        assert not thread.is_alive()


def _until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _freshness(home: Path) -> Freshness:
    with Workspace.open(home) as ws:
        (dist,) = ws.ledger.distributions.all()
        return ws.freshness(dist)


def _committed(home: Path) -> int:
    with Control(Home.open(home).control_db) as control:
        counts = control.counts_by_state()
    return counts.get("committed", 0) + counts.get("purged", 0)


def _audience(home: Path, sandbox: InProcessSandbox) -> dict[str, set[str]]:
    audience_id = str(_status(home, sandbox)["audience_id"])
    return audience_keys(sandbox, audience_id)


def test_a_dropped_file_reaches_the_audience_unasked(
    running: tuple[Path, Serve], fast_sandbox: InProcessSandbox
) -> None:
    home, _ = running
    drop(Home.open(home), "acme", "next.csv", csv_text(people(1000, 3000, SEGMENT)))
    _until(lambda: _audience(home, fast_sandbox) == segment_keys(home, SEGMENT))
    emails = _audience(home, fast_sandbox)["EMAIL_SHA256"]
    assert len(emails) == 3000  # the 1,000 who left were deleted, the 1,000 new added
    _until(lambda: _status(home, fast_sandbox)["freshness"]["samples"] == 1)  # type: ignore[index]
    fresh = _status(home, fast_sandbox)["freshness"]
    assert isinstance(fresh, dict)
    assert 0 < fresh["p50"] < 30
    assert fresh["lag"] == 0
    assert fresh["behind"] == 0
    table = cli(home, fast_sandbox, "status")
    assert "fresh" in table.output


def test_changes_that_keep_coming_keep_flowing(
    running: tuple[Path, Serve], fast_sandbox: InProcessSandbox
) -> None:
    home, _ = running
    for n in range(4):
        drop(Home.open(home), "acme", f"f{n}.csv", csv_text(people((n + 1) * 500, 3000, SEGMENT)))
        time.sleep(0.3)
    _until(lambda: _committed(home) == 5)  # the first, then these four
    _until(lambda: _audience(home, fast_sandbox) == segment_keys(home, SEGMENT))
    _until(lambda: _freshness(home).behind == 0)  # the last run has recorded its end
    fresh = _freshness(home)
    assert fresh.samples == 4
    assert fresh.behind == 0


def test_a_paused_distribution_is_left_alone(
    running: tuple[Path, Serve], fast_sandbox: InProcessSandbox
) -> None:
    home, _ = running
    assert cli(home, fast_sandbox, "pause", SEGMENT).exit_code == 0
    before = audience = _audience(home, fast_sandbox)
    drop(Home.open(home), "acme", "next.csv", csv_text(people(1000, 3000, SEGMENT)))
    _until(lambda: segment_keys(home, SEGMENT) != before)  # the file is committed
    time.sleep(1.0)  # five flushes
    assert _audience(home, fast_sandbox) == audience
    with Workspace.open(home) as ws:
        (dist,) = ws.ledger.distributions.all()
        assert ws.freshness(dist).behind == 1  # waiting, and counted as lag
    assert cli(home, fast_sandbox, "resume", SEGMENT).exit_code == 0
    _until(lambda: _audience(home, fast_sandbox) == segment_keys(home, SEGMENT))


def test_a_refused_token_is_retried_later_not_at_every_poll(
    running: tuple[Path, Serve], fast_sandbox: InProcessSandbox
) -> None:
    home, service = running
    fast_sandbox.revoke(fast_sandbox.token("admin"))
    drop(Home.open(home), "acme", "next.csv", csv_text(people(1000, 3000, SEGMENT)))
    _until(lambda: any(o.status == "stopped" for o in service.loop.outcomes))
    time.sleep(1.0)
    assert [o.status for o in service.loop.outcomes] == ["stopped"]  # 30 s until the next
    assert "re-authorize" in str(service.loop.outcomes[0].message)


def test_once_takes_the_inbox_then_syncs(tmp_path: Path, fast_sandbox: InProcessSandbox) -> None:
    home = _serving(tmp_path, fast_sandbox)
    drop(Home.open(home), "acme", "next.csv", csv_text(people(1000, 3000, SEGMENT)))
    summary = Serve(Home.open(home), fast_sandbox.transport()).run(once=True, signals=False)
    assert summary.inbox is not None
    assert summary.inbox.counts() == {"purged": 1}  # committed, the raw file deleted
    assert summary.sync_counts() == {"done": 1}
    assert _audience(home, fast_sandbox) == segment_keys(home, SEGMENT)
    again = Serve(Home.open(home), fast_sandbox.transport()).run(once=True, signals=False)
    assert again.sync_counts() == {}  # caught up: nothing to do
