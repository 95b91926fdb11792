"""Undistribute against the in-process emulator: a crash between its steps loses nothing
and is finished by doing it again; a platform that keeps failing leaves the distribution
as it was; a run refuses a distribution being undone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from distributor.cli.render import run_metrics
from distributor.errors import RuleError, TransientError
from distributor.ledger.distributions import Distributions
from distributor.sandbox.handle import InProcessSandbox
from distributor.undistribute import DELETED, KEPT, undistribute
from distributor.workspace import Workspace
from tests.distributor.helpers import add_account, expected, members, wire, workspace


def _distributed(home: Path, sandbox: InProcessSandbox) -> Workspace:
    wire(home, sandbox)
    add_account(home, sandbox)
    ws = workspace(home, sandbox)
    assert ws.distribute("fans", members(range(2_000)), "acme").status == "done"
    assert ws.sync("fans", members(range(500, 2_500))).status == "done"
    return ws


def _ledger_files(ws: Workspace) -> list[str]:
    ledger = ws.ledger
    return sorted(
        p.name for d in (ledger.distributions.held_dir, ledger.runs.root) for p in d.iterdir()
    )


def test_a_crash_after_the_first_step_is_finished_by_undistributing_again(
    home: Path, fast_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _distributed(home, fast_sandbox)
    assert _ledger_files(ws)  # the held snapshot

    def crash(self: Distributions, name: str) -> Path:
        raise KeyboardInterrupt  # as if killed once the distribution was marked

    with monkeypatch.context() as patch:
        patch.setattr(Distributions, "snapshot_path", crash)
        with pytest.raises(KeyboardInterrupt):
            asyncio.run(undistribute(ws, "fans", "acme", delete_audience=False))
    (marked,) = ws.ledger.distributions.all()
    assert marked.status == "removing"
    (shown,) = [run_metrics(r) for r in ws.ledger.distributions.last_runs()]
    assert shown["status"] == "removing"  # what `distributor status` says
    assert "run it again" in shown["message"]
    with pytest.raises(RuleError, match="being undistributed: finish with `distributor undis"):
        ws.sync("fans", members(range(10)))
    done = asyncio.run(undistribute(ws, "fans", "acme", delete_audience=False))
    assert (done.audience, done.runs) == (KEPT, 2)
    assert ws.ledger.distributions.all() == []
    assert ws.ledger.database.rows("SELECT id FROM runs") == []
    assert ws.ledger.database.rows("SELECT id FROM batches") == []
    assert _ledger_files(ws) == []
    assert len(fast_sandbox.audiences(fast_sandbox.advertiser())) == 1  # kept


def test_a_failing_platform_leaves_the_distribution_as_it_was(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    ws = _distributed(home, fast_sandbox)
    before, files = ws.ledger.distributions.all(), _ledger_files(ws)
    fast_sandbox.faults(error_rate_5xx=1.0)
    with pytest.raises(TransientError):
        asyncio.run(undistribute(ws, "fans", "acme", delete_audience=True))
    assert ws.ledger.distributions.all() == before
    assert _ledger_files(ws) == files
    fast_sandbox.faults(error_rate_5xx=0.0)
    done = asyncio.run(undistribute(ws, "fans", "acme", delete_audience=True))
    assert done.audience == DELETED
    assert fast_sandbox.audiences(fast_sandbox.advertiser()) == []
    # a new distribution starts from nothing: every member is sent again
    people = members(range(500, 2_500))
    again = ws.distribute("fans", people, "acme")
    assert again.status == "done"
    assert sum(again.ids_added.values()) == sum(len(ids) for ids in expected(people).values())


def test_an_audience_whose_create_answer_was_lost_is_found_by_name(
    home: Path, fast_sandbox: InProcessSandbox
) -> None:
    ws = _distributed(home, fast_sandbox)
    (dist,) = ws.ledger.distributions.all()
    ws.ledger.database.write("UPDATE distributions SET audience_id = NULL WHERE id = ?", (dist.id,))
    done = asyncio.run(undistribute(ws, "fans", "acme", delete_audience=True))
    assert done.audience == DELETED
    assert fast_sandbox.audiences(fast_sandbox.advertiser()) == []
