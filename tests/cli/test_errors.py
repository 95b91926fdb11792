"""Ordinary mistakes end in one line and a documented exit status, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.cli.support import script

USAGE, INPUT = 2, 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["distributor", "demo", "--rows", "0"], "'--rows': 0 is not in the range x>=1"),
        (["resolver", "demo", "--rows", "-5"], "'--rows': -5 is not in the range x>=1"),
        (["distributor", "sandbox", "--port", "99999"], "99999 is not in the range 0<=x<=65535"),
        (["distributor", "sandbox", "--port", "-1"], "-1 is not in the range 0<=x<=65535"),
    ],
)
def test_out_of_range_options_are_usage_errors(tmp_path: Path, argv: list[str], says: str) -> None:
    run = script(argv[0], *argv[1:], cwd=tmp_path)
    assert run.code == USAGE, run
    assert says in run.one_line_error
    assert list(tmp_path.iterdir()) == []


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = script("distributor", "sandbox", "--port", str(port), cwd=tmp_path)
    assert run.code == INPUT, run
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in run.one_line_error


def test_a_port_out_of_range_in_the_settings_is_one_line(tmp_path: Path) -> None:
    env = {"TESSERA_SANDBOX__PORT": "70000"}
    run = script("distributor", "sandbox", cwd=tmp_path, env=env)
    assert run.code == INPUT, run
    assert "port 70000 is out of range" in run.one_line_error


@pytest.mark.parametrize(
    "argv",
    [
        ["distributor", "status"],
        ["distributor", "accounts", "list"],
        ["distributor", "segments", "list"],
    ],
)
def test_a_bad_config_toml_is_one_line_naming_the_file_and_line(
    tmp_path: Path, home: Path, argv: list[str]
) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + "\n[[[ broken\n")
    run = script(argv[0], "--home", str(home), *argv[1:], cwd=tmp_path)
    assert run.code == INPUT, run
    assert f"{config}: not valid TOML" in run.one_line_error
    assert "line" in run.one_line_error


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TESSERA_DISTRIBUTOR__CONCURRENCY", "many", "distributor.concurrency"),
        ("TESSERA_DISTRIBUTOR__CONCURRENCY", "0", "must be at least 1"),
        ("TESSERA_TIKTOK__NO_SUCH", "1", "unknown setting tiktok.no_such"),
    ],
)
def test_a_bad_setting_value_is_one_line_naming_the_setting(
    tmp_path: Path, home: Path, setting: str, value: str, says: str
) -> None:
    run = script("distributor", "--home", str(home), "status", cwd=tmp_path, env={setting: value})
    assert run.code == INPUT, run
    assert says in run.one_line_error
