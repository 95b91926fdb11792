"""`--home` before or after the command, and no home made by accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import script


@pytest.mark.parametrize(
    "argv",
    [
        ["resolver", "status"],
        ["resolver", "partners", "list"],
        ["resolver", "keys", "show"],
        ["resolver", "graph", "stats"],
        ["resolver", "serve", "--once"],
        ["distributor", "status"],
        ["distributor", "accounts", "list"],
        ["distributor", "segments", "list"],
    ],
)
def test_a_command_where_no_home_exists_says_so_and_makes_none(
    tmp_path: Path, argv: list[str]
) -> None:
    run = script(argv[0], *argv[1:], cwd=tmp_path)
    assert run.code == 1, run
    assert "no Tessera home at .tessera" in run.one_line_error
    assert "resolver init" in run.one_line_error
    assert list(tmp_path.iterdir()) == []  # nothing made, no key written


@pytest.mark.parametrize(
    "argv",
    [
        ["resolver", "status"],
        ["resolver", "partners", "list"],
        ["resolver", "keys", "show"],
        ["distributor", "status"],
        ["distributor", "accounts", "list"],
    ],
)
def test_home_is_taken_before_or_after_the_command(
    tmp_path: Path, home: Path, argv: list[str]
) -> None:
    before = script(argv[0], "--home", str(home), *argv[1:], cwd=tmp_path)
    after = script(argv[0], *argv[1:], "--home", str(home), cwd=tmp_path)
    assert before.code == after.code == 0, (before, after)
    assert before.out == after.out
    assert not (tmp_path / ".tessera").exists()


def test_two_different_homes_are_a_usage_error(tmp_path: Path, home: Path) -> None:
    run = script("resolver", "--home", str(home), "status", "--home", "elsewhere", cwd=tmp_path)
    assert run.code == 2, run
    assert "--home is given twice" in run.one_line_error


def test_a_home_after_the_command_wins_over_the_environment(tmp_path: Path, home: Path) -> None:
    env = {"TESSERA_HOME": str(tmp_path / "nowhere")}
    run = script("resolver", "partners", "list", "--home", str(home), cwd=tmp_path, env=env)
    assert run.code == 0, run
    assert not (tmp_path / "nowhere").exists()


def test_distributor_demo_uses_the_home_given_before_the_command(tmp_path: Path) -> None:
    run = script(
        "distributor", "--home", str(tmp_path / "d"), "demo", "--rows", "300", cwd=tmp_path
    )
    assert run.code == 0, run
    assert (tmp_path / "d" / "config.toml").is_file()
    assert (tmp_path / "d" / "inbox" / "demo-partner").is_dir()
    assert f"The demo's home is {tmp_path / 'd'}" in run.out
