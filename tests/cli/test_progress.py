"""Progress as an operator sees it, through the installed scripts: a distribution's rows
and batches done of their totals on a terminal, and "retrying (...), next try in N s"
while calls back off (a line on stderr without a terminal)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from distributor.sandbox.process import start_sandbox
from tests.cli.site import Site, make_site
from tests.cli.support import Run, script, with_terminal

ACCOUNT = "Brand US"
FAST_RETRIES = {
    "TESSERA_DISTRIBUTOR__BATCH_SIZE": "10",
    "TESSERA_DISTRIBUTOR__BACKOFF_INITIAL_SECONDS": "0.2",
    "TESSERA_DISTRIBUTOR__BACKOFF_MAX_SECONDS": "1",
    "TESSERA_DISTRIBUTOR__THROTTLE_INITIAL_SECONDS": "0.2",
    "TESSERA_DISTRIBUTOR__THROTTLE_MAX_SECONDS": "1",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("progress")
    with start_sandbox("--users", "1000") as sandbox:
        yield make_site(root / "h", sandbox, ACCOUNT, **FAST_RETRIES)


@pytest.mark.slow  # a real emulator process: in the slow pass
def test_backing_off_says_why_and_when_without_a_terminal(site: Site) -> None:
    site.ok("distributor", "segments", "copy", "sports fans", "--name", "flaky")
    site.sandbox.limits(per_second=2, per_minute=3000)  # 16 requests at once: throttled
    try:
        run = site.ok("distributor", "distribute", "flaky", "--account", ACCOUNT)
    finally:
        site.sandbox.limits(per_second=50, per_minute=3000)
    assert re.search(r"^retrying \(throttled\), next try in \d+ s$", run.err, re.M), run
    assert "Traceback" not in run.err


@pytest.mark.slow
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


def _shown(run: Run) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", run.out)  # without the terminal's codes


def _big_file(path: Path) -> Path:
    """~25 MB: several of the reader's 4 MiB blocks."""
    n = 600_000
    emails = pl.Series("email", [f"person{i}@example.com" for i in range(n)])
    pl.DataFrame([emails]).with_columns(city=pl.lit("London")).write_csv(path)
    return path


def test_hash_on_a_terminal_shows_bytes_of_the_total(tmp_path: Path) -> None:
    _big_file(tmp_path / "big.csv")
    run = with_terminal("resolver", "hash", str(tmp_path / "big.csv"), "-o",
                        str(tmp_path / "out.csv"))  # fmt: skip
    assert run.code == 0, run
    steps = re.findall(r"reading \S+ ([\d.]+) MB of ([\d.]+) MB", _shown(run))
    assert steps, _shown(run)[-2000:]
    assert {total for _, total in steps} == {f"{(tmp_path / 'big.csv').stat().st_size / 1e6:.1f}"}


def test_serve_on_a_terminal_shows_each_phase(home: Path) -> None:
    assert script("resolver", "partners", "add", "acme", "--home", str(home), cwd=home).code == 0
    _big_file(home / "inbox" / "acme" / "big.csv")
    (home / "inbox" / "acme" / "big.csv.done").write_bytes(b"")
    run = with_terminal("resolver", "serve", "--once", "--home", str(home))
    assert run.code == 0, run
    shown = _shown(run)
    assert re.search(r"^serving .*inbox: 1 partner folder\(s\) \(acme\), until it is empty", shown,
                     re.M)  # fmt: skip
    for phase in ("reading", "linking", "writing"):
        assert f"acme/big.csv {phase}" in shown, phase
    assert re.search(r"writing \S+ [\d,]+ of 600,000 rows", shown), shown[-2000:]
