"""`distributor pause` and `resume` (issue 12): a paused distribution sends nothing, a
named sync is refused, `sync --all` passes it by, status shows it; resumed, the next sync
brings the audience up to its segment."""

from __future__ import annotations

import json
from pathlib import Path

from distributor.sandbox.handle import InProcessSandbox
from tests.distributor.cli.test_outcomes import SEGMENT, _home, _refresh, _status
from tests.distributor.helpers import cli


def test_a_paused_distribution_sends_nothing_until_resumed(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox)
    paused = cli(home, fast_sandbox, "pause", SEGMENT.upper())  # any spelling of the name
    assert paused.exit_code == 0, paused.output
    _refresh(home, 1000, 3000)
    before = len(fast_sandbox.requests())
    refused = cli(home, fast_sandbox, "sync", SEGMENT)
    assert refused.exit_code == 1
    assert "paused" in refused.output
    assert "distributor resume" in refused.output
    every = cli(home, fast_sandbox, "sync", "--all", "--json")
    assert every.exit_code == 0, every.output
    assert "paused, not synced" in every.output
    assert len(fast_sandbox.requests()) == before  # not one call
    assert _status(home, fast_sandbox)["status"] == "paused"
    assert cli(home, fast_sandbox, "resume", SEGMENT).exit_code == 0
    synced = cli(home, fast_sandbox, "sync", SEGMENT, "--json")
    assert synced.exit_code == 0, synced.output
    (report,) = json.loads(synced.output)
    assert report["synced"] == report["entered"] == 3000
    assert report["deletes"] > 0
    assert _status(home, fast_sandbox)["status"] == "done"


def test_pausing_a_segment_that_is_not_distributed_is_an_error(
    tmp_path: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = _home(tmp_path, fast_sandbox)
    result = cli(home, fast_sandbox, "pause", "no such segment")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
