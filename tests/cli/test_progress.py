"""Progress as an operator sees it, through the installed scripts: a distribution's rows
and batches done of their totals on a terminal, and "retrying (...), next try in N s"
while calls back off (a line on stderr without a terminal)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from distributor.sandbox.process import start_sandbox
from tests.cli.site import Site, make_site

ACCOUNT = "Brand US"
FAST_RETRIES = {
    "TESSERA_DISTRIBUTOR__BATCH_SIZE": "10",
    "TESSERA_DISTRIBUTOR__BACKOFF_INITIAL_SECONDS": "0.2",
    "TESSERA_DISTRIBUTOR__BACKOFF_MAX_SECONDS": "1",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("progress")
    with start_sandbox("--users", "1000") as sandbox:
        yield make_site(root / "h", sandbox, ACCOUNT, **FAST_RETRIES)


def test_backing_off_says_why_and_when_without_a_terminal(site: Site) -> None:
    site.ok("distributor", "segments", "copy", "sports fans", "--name", "flaky")
    site.sandbox.faults(error_rate_5xx=0.6)
    try:
        run = site.ok("distributor", "distribute", "flaky", "--account", ACCOUNT)
    finally:
        site.sandbox.faults()
    assert re.search(r"^retrying \(HTTP 503\), next try in \d+ s$", run.err, re.M), run
    assert "Traceback" not in run.err


def test_a_terminal_shows_rows_and_batches_of_their_totals(site: Site) -> None:
    site.ok("distributor", "segments", "copy", "sports fans", "--name", "watched")
    site.sandbox.limits(per_second=4, per_minute=3000)  # slow enough to be drawn
    try:
        run = site.on_terminal("distributor", "distribute", "watched", "--account", ACCOUNT)
    finally:
        site.sandbox.limits(per_second=50, per_minute=3000)
    assert run.code == 0, run
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run.out)  # without the terminal's codes
    batches = [int(n) for n in re.findall(r"adding\D+?\d+/\d+ \d+/(\d+) batches", shown)]
    assert batches, shown[-2000:]
    assert max(batches) >= 5  # the plan's batches, as the bar counts them
