"""Every table legible at 80 and at 200 columns: no line wider than the terminal, no
column squeezed to nothing, no ID cut. What each command printed is in the test output
(`pytest -rP` shows it), as the terminal would show it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.support import script

COMMANDS = [
    ["distributor", "status"],
    ["distributor", "accounts", "list"],
    ["distributor", "segments", "list"],
    ["distributor", "segments", "show", "sports fans"],
    ["resolver", "status"],
    ["resolver", "partners", "list"],
    ["resolver", "quarantine", "list"],
]


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home the demo filled: an account, a distributed segment, two files, and a
    quarantined file (for the status's message column)."""
    root = tmp_path_factory.mktemp("tables")
    home = root / "h"
    run = script("distributor", "--home", str(home), "demo", "--rows", "400", cwd=root)
    assert run.code == 0, run
    bad = home / "inbox" / "demo-partner" / "broken.csv"
    bad.write_text('email,phone\n"a@b.com,1\n')
    (bad.parent / "broken.csv.done").write_text("")
    env = {"TESSERA_INBOX__STABLE_SECONDS": "0"}
    assert script("resolver", "serve", "--once", "--home", str(home), cwd=root, env=env).code == 0
    return home


def _ids(home: Path) -> list[str]:
    """The audience and advertiser IDs the tables must show whole."""
    run = script("distributor", "status", "--json", "--home", str(home), cwd=home.parent)
    found = re.findall(r'"(?:audience_id|advertiser_id)": "?(\d{6,})', run.out)
    assert found, run
    return found


@pytest.mark.parametrize("width", [80, 200])
@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_tables_fit_the_terminal_and_keep_every_id_whole(
    demo_home: Path, argv: list[str], width: int
) -> None:
    env = {"COLUMNS": str(width)}
    run = script(argv[0], *argv[1:], "--home", str(demo_home), cwd=demo_home.parent, env=env)
    print(f"$ COLUMNS={width} {' '.join(argv)}\n{run.out}")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines, run
    assert max(len(line) for line in lines) <= width, run.out
    assert "…" not in run.out  # nothing cut
    if argv[:2] == ["distributor", "status"]:
        for found in _ids(demo_home):
            assert found in run.out
    if argv in (["resolver", "status"], ["resolver", "quarantine", "list"]):
        assert "message" in run.out  # the quarantined file says why
    if argv == ["resolver", "quarantine", "list"]:
        assert "expires" in run.out
