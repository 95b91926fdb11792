"""What the distributor says happened is what happened (issue 9, items 13 and 14): run
statuses that keep `stopped` visible, a refused token or a deleted audience detected even
with nothing to send, unsent deletes counted, an exit status per outcome, a Ctrl-C'd or
killed run shown as interrupted, and one run per distribution at a time."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from distributor.sandbox.handle import InProcessSandbox, SandboxHandle
from distributor.sandbox.process import SandboxProcess
from resolver.home import Home
from resolver.inbox.service import Service
from tests.distributor.helpers import add_account, cli, wire
from tests.resolver.inbox.support import csv_text, drop, make_home, people

SEGMENT = "fans"


def _refresh(home: Path, start: int, count: int) -> None:
    """The partner sends the segment as `count` people from `start` (a full refresh)."""
    drop(Home.open(home), "acme", f"{start}-{count}.csv", csv_text(people(start, count, SEGMENT)))
    Service(Home.open(home)).run(once=True)


def _home(tmp_path: Path, sandbox: SandboxHandle, **settings: float | int) -> Path:
    """A home with one partner, one account and the segment distributed once."""
    home = make_home(tmp_path / "home", "acme").root
    wire(home, sandbox, **settings)
    add_account(home, sandbox)
    _refresh(home, 0, 3000)
    result = cli(home, sandbox, "distribute", SEGMENT, "--account", "acme")
    assert result.exit_code == 0, result.output
    return home


def _status(home: Path, sandbox: SandboxHandle) -> dict[str, object]:
    result = cli(home, sandbox, "status", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    return dict(row)


def test_a_stopped_run_stays_stopped_in_status(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    """`status` showed `folded` for every run, hiding `stopped`."""
    home = _home(tmp_path, fast_sandbox, batch_size=500)
    assert _status(home, fast_sandbox)["status"] == "done"
    _refresh(home, 1000, 8000)
    fast_sandbox.faults(revoke_after=2)
    stopped = cli(home, fast_sandbox, "sync", SEGMENT)
    assert stopped.exit_code == 4, stopped.output
    row = _status(home, fast_sandbox)
    assert row["status"] == "stopped"
    assert "re-authorize" in str(row["message"])


def test_a_refused_token_with_nothing_to_send_is_not_done(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    """With nothing to send, the matched-size call's 40105 was swallowed: `done`, exit 0."""
    home = _home(tmp_path, fast_sandbox)
    fast_sandbox.revoke(fast_sandbox.token("admin"))
    result = cli(home, fast_sandbox, "sync", SEGMENT, "--json")
    assert result.exit_code == 4, result.output
    assert "re-authorize" in result.output


def test_a_deleted_audience_is_detected_and_recreated_on_request(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    """An audience deleted on TikTok's side gave `done, errored 0` while every request was
    refused with 40002."""
    home = _home(tmp_path, fast_sandbox)
    (audience,) = fast_sandbox.audiences(fast_sandbox.advertiser())
    client = fast_sandbox.client(fast_sandbox.token())
    body = {
        "advertiser_id": fast_sandbox.advertiser(),
        "custom_audience_ids": [audience["audience_id"]],
    }
    assert client.post("dmp/custom_audience/delete/", json=body).json()["code"] == 0
    gone = cli(home, fast_sandbox, "sync", SEGMENT, "--json")
    assert gone.exit_code == 5, gone.output
    assert "--recreate" in gone.output
    assert _status(home, fast_sandbox)["status"] == "audience gone"
    made = cli(
        home, fast_sandbox, "distribute", SEGMENT, "--account", "acme", "--recreate", "--json"
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.output)[0]
    assert report["audience_id"] != audience["audience_id"]
    assert report["synced"] == report["entered"] - report["not_synced"]
    again = cli(home, fast_sandbox, "distribute", SEGMENT, "--account", "acme", "--recreate")
    assert again.exit_code == 1
    assert "still exists" in again.output


def test_an_audience_deleted_mid_upload_stops_the_run(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox, batch_size=500)
    _refresh(home, 2000, 6000)
    fast_sandbox.faults(delete_after=2)
    result = cli(home, fast_sandbox, "sync", SEGMENT, "--json")
    assert result.exit_code == 5, result.output
    mapping = [e for e in fast_sandbox.requests() if e["path"] == "segment/mapping/"]
    assert sum(1 for e in mapping if e["code"] == 40002) < 10  # no bisection storm


def test_unsent_deletes_and_errored_members_are_a_partial_run(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    """Unsent deletes showed as `pending 0`; members errored after the retry window exited 0."""
    home = _home(tmp_path, fast_sandbox, batch_size=500, retry_window_hours=0.0003)
    _refresh(home, 1500, 3000)
    fast_sandbox.faults(error_rate_5xx=1.0)
    result = cli(home, fast_sandbox, "sync", SEGMENT, "--json")
    fast_sandbox.faults()
    report = json.loads(_json(result.output))[0]
    assert result.exit_code == 3, result.output
    assert report["status"] == "partial"
    assert report["pending_deletes"] > 0 or report["errored"] + report["pending"] > 0


def _json(output: str) -> str:
    """The JSON list in a command's output (an error line may follow it)."""
    return output[output.index("[") : output.rindex("]") + 1]


def _syncing(home: Path) -> subprocess.Popen[bytes]:
    """`distributor sync fans` as its own process (the command an operator runs)."""
    return subprocess.Popen(
        [sys.executable, "-m", "distributor", "--home", str(home), "sync", SEGMENT],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _mapping_started(sb: SandboxProcess, since: float) -> None:
    deadline = time.monotonic() + 60
    while not any(e["path"] == "segment/mapping/" and e["time"] >= since for e in sb.requests()):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_one_run_per_distribution_and_interrupted_runs_say_so(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """Two runs at once crashed with sqlite3.IntegrityError; a Ctrl-C'd run stayed
    `running` forever, and so did a killed one."""
    sb = sandbox_process
    home = _home(tmp_path, sb, batch_size=200, concurrency=2)
    _refresh(home, 1000, 20_000)
    sb.faults(latency_ms=50)
    since = time.time()
    first = _syncing(home)
    _mapping_started(sb, since)
    second = cli(home, sb, "sync", SEGMENT)
    assert second.exit_code == 6, second.output
    assert f"pid {first.pid}" in second.output
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) == 130
    assert _status(home, sb)["status"] == "interrupted"
    since = time.time()
    killed = _syncing(home)
    _mapping_started(sb, since)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    row = _status(home, sb)
    assert row["status"] == "interrupted"
    assert "next run resumes" in str(row["message"])
    sb.faults()
    final = cli(home, sb, "sync", SEGMENT, "--json")
    assert final.exit_code == 0, final.output
