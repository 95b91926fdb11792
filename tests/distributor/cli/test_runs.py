"""`distributor runs` (issue 12, run history): every run kept with its start, end,
outcome, counts and failed calls by code, newest first; a killed run shows as
interrupted, its codes taken from its batches."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from distributor.ledger import SCHEMA, Ledger
from distributor.sandbox.handle import InProcessSandbox
from resolver import Database
from tests.distributor.cli.test_outcomes import SEGMENT, _home, _refresh
from tests.distributor.helpers import cli


def _runs(home: Path, sandbox: InProcessSandbox, *args: str) -> list[dict[str, object]]:
    result = cli(home, sandbox, "runs", *args, "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.output)
    return found


def test_runs_list_every_run_newest_first_with_failed_calls_by_code(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox, batch_size=500, retry_window_hours=0.0003)
    _refresh(home, 1500, 3000)
    before = len(fast_sandbox.requests())
    fast_sandbox.faults(error_rate_5xx=1.0)
    assert cli(home, fast_sandbox, "sync", SEGMENT).exit_code == 3
    fast_sandbox.faults()
    failed = [
        e
        for e in fast_sandbox.requests()[before:]
        if e["path"] == "segment/mapping/" and e["code"] == 503
    ]
    latest, first = _runs(home, fast_sandbox)
    assert (first["status"], latest["status"]) == ("done", "partial")
    assert int(str(latest["run"])) > int(str(first["run"]))
    assert first["errors_by_code"] == {}
    codes = latest["errors_by_code"]
    assert isinstance(codes, dict)
    assert sum(codes.values()) == len(failed) > 0
    assert first["synced"] == 3000
    assert latest["finished"] is not None
    assert latest["seconds"] is not None
    assert _runs(home, fast_sandbox, SEGMENT, "--limit", "1") == [latest]
    assert _runs(home, fast_sandbox, "no such segment") == []
    table = cli(home, fast_sandbox, "runs")
    assert table.exit_code == 0
    assert "partial" in table.output
    assert "@" not in table.output  # counts and names only


def test_a_run_killed_mid_way_shows_interrupted_with_its_batches_codes(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox, batch_size=500)
    db = sqlite3.connect(home / "state" / "distributor.db")
    with db:  # what a run killed after two failed calls leaves behind
        db.execute("UPDATE runs SET status = 'running', finished_at = NULL, metrics = NULL")
        db.execute(
            "UPDATE batches SET state = 'failed', code = 503 WHERE id IN"
            " (SELECT id FROM batches ORDER BY id LIMIT 2)"
        )
    db.close()
    (run,) = _runs(home, fast_sandbox)
    assert run["status"] == "interrupted"
    assert run["errors_by_code"] == {"503": 2}
    assert run["finished"] is None


def test_a_ledger_from_before_batch_codes_gets_the_column(tmp_path: Path) -> None:
    old = SCHEMA.replace(" code INTEGER,", "")
    assert old != SCHEMA
    Database(tmp_path / "distributor.db", old).close()
    key = bytes(32)
    with Ledger(tmp_path, key, key) as ledger:
        columns = {r["name"] for r in ledger.database.rows("PRAGMA table_info(batches)")}
    assert "code" in columns


def _age_all_runs(home: Path, days: float) -> None:
    db = sqlite3.connect(home / "state" / "distributor.db")
    with db:
        db.execute("UPDATE runs SET started_at = started_at - ?", (days * 86400.0,))
    db.close()


def _three_runs(home: Path, sandbox: InProcessSandbox) -> None:
    """distribute (in _home), then two syncs of changed members: three clean runs."""
    for start in (1000, 2000):
        _refresh(home, start, 3000)
        assert cli(home, sandbox, "sync", SEGMENT).exit_code == 0


def test_runs_older_than_the_history_leave_at_the_next_run(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox, run_history_days=30)
    _three_runs(home, fast_sandbox)
    first, second, third = (r["run"] for r in reversed(_runs(home, fast_sandbox)))
    _age_all_runs(home, 31)
    _refresh(home, 3000, 3000)
    assert cli(home, fast_sandbox, "sync", SEGMENT).exit_code == 0
    kept = [r["run"] for r in _runs(home, fast_sandbox)]
    # the newest clean finish stays (the retry window looks back to it), with the new run
    assert kept[1:] == [third]
    assert len(kept) == 2
    db = sqlite3.connect(home / "state" / "distributor.db")
    left = {r[0] for r in db.execute("SELECT DISTINCT run_id FROM batches")}
    db.close()
    assert not left & {first, second}


def test_a_history_of_zero_days_keeps_every_run(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox, run_history_days=0)
    _three_runs(home, fast_sandbox)
    _age_all_runs(home, 1000)
    _refresh(home, 3000, 3000)
    assert cli(home, fast_sandbox, "sync", SEGMENT).exit_code == 0
    assert len(_runs(home, fast_sandbox)) == 4
