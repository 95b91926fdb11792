"""Partners through the installed `resolver`: names checked, settings never changed by a
second `add`, `update` to change them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import Run, script, with_terminal


@pytest.fixture
def home(tmp_path: Path) -> str:
    made = str(tmp_path / "h")
    assert script("resolver", "init", "--home", made, cwd=tmp_path).code == 0
    assert script("resolver", "partners", "add", "acme", "--home", made, cwd=tmp_path).code == 0
    return made


def _resolve(tmp_path: Path, home: str, partner: str) -> Run:
    (tmp_path / "in.csv").write_text("email\na@b.com\n")
    argv = ["resolve", "in.csv", "--partner", partner, "-o", "out.csv", "--home", home]
    return script("resolver", *argv, cwd=tmp_path)


def _region(tmp_path: Path, home: str) -> str:
    run = script("resolver", "partners", "list", "--home", home, cwd=tmp_path)
    line = next(line for line in run.out.splitlines() if " acme " in line)
    return line.split("│")[2].strip()


def test_adding_a_partner_again_with_other_settings_fails_and_points_to_update(
    tmp_path: Path, home: str
) -> None:
    again = script("resolver", "partners", "add", "acme", "--home", home, cwd=tmp_path)
    assert again.code == 0, again
    assert "already exists: partner acme" in again.out
    other = script(
        "resolver", "partners", "add", "acme", "--region", "GB", "--home", home, cwd=tmp_path
    )
    assert other.code == 1, other
    assert "`resolver partners update acme --region GB`" in other.one_line_error
    assert _region(tmp_path, home) == "US"
    update = script(
        "resolver", "partners", "update", "acme", "--region", "gb", "--home", home, cwd=tmp_path
    )
    assert update.code == 0, update
    assert "region US -> GB" in update.out
    assert _region(tmp_path, home) == "GB"


def test_updating_an_unknown_partner_says_how_to_add_it(tmp_path: Path, home: str) -> None:
    run = script(
        "resolver", "partners", "update", "zed", "--region", "GB", "--home", home, cwd=tmp_path
    )
    assert run.code == 1, run
    assert "there is no partner zed: `resolver partners add zed`" in run.one_line_error


@pytest.mark.parametrize("name", ["Bad Name", "../up", "_x", "a" * 64, "ACME"])
def test_resolve_refuses_a_malformed_partner_name(tmp_path: Path, home: str, name: str) -> None:
    run = _resolve(tmp_path, home, name)
    assert run.code == 1, run
    assert "a partner name has 1-63 lowercase letters" in run.one_line_error
    assert not (tmp_path / "out.csv").exists()


def test_resolve_for_an_unregistered_partner_says_so(tmp_path: Path, home: str) -> None:
    run = _resolve(tmp_path, home, "ghost")
    assert run.code == 0, run
    assert "note: ghost is not a partner of this home" in run.err
    registered = _resolve(tmp_path, home, "acme")
    assert "not a partner" not in registered.err


def test_remove_spells_out_what_goes_asks_and_retires_the_name(tmp_path: Path, home: str) -> None:
    inbox = Path(home) / "inbox" / "acme"
    (inbox / "a.csv").write_text("email,segment\na@example.com,fans\nb@example.com,fans\n")
    (inbox / "a.csv.done").write_bytes(b"")
    assert script("resolver", "serve", "--once", "--home", home, cwd=tmp_path).code == 0
    said_no = with_terminal("resolver", "partners", "remove", "acme", "--home", home, answer="n")
    assert said_no.code == 1
    assert (
        "This will delete partner acme: 1 file record(s), 0 file(s) waiting in its inbox, 2 in"
        " its outbox, 0 in quarantine, an identity graph of 2 identifiers, and 1 segment(s)"
        " ('fans'); its person IDs stop meaning anyone and its name cannot be registered"
        " again. Go on? [y/N]"
    ) in " ".join(said_no.out.split())
    assert (Path(home) / "outbox" / "acme").exists()
    no_terminal = script("resolver", "partners", "remove", "acme", "--home", home, cwd=tmp_path)
    assert no_terminal.code == 1
    assert "Pass --yes" in no_terminal.one_line_error
    run = script("resolver", "partners", "remove", "acme", "--yes", "--home", home, cwd=tmp_path)
    assert run.code == 0, run
    assert run.out.strip() == "removed partner acme"
    assert not (Path(home) / "outbox" / "acme").exists()
    again = script("resolver", "partners", "add", "acme", "--home", home, cwd=tmp_path)
    assert again.code == 1
    assert "its name is retired" in again.one_line_error
