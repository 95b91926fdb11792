"""Hints that work when pasted: names with spaces quoted, the known account filled in."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from distributor.errors import RuleError
from distributor.ledger import Account
from distributor.rules import check_account_name, check_one_account
from distributor.run import reauthorize
from tests.cli.support import script


def _pasted(message: str) -> list[list[str]]:
    """Every `command` in a message, as the shell would split it."""
    return [shlex.split(found) for found in re.findall(r"`([^`]+)`", message)]


def test_the_distribute_hint_quotes_a_segment_name_with_spaces(tmp_path: Path) -> None:
    home = tmp_path / "h"
    demo = script("distributor", "--home", str(home), "demo", "--rows", "300", cwd=tmp_path)
    assert demo.code == 0, demo
    run = script("distributor", "sync", "new parents", "--home", str(home), cwd=tmp_path)
    assert run.code == 1, run
    assert "Traceback" not in run.err
    assert ["distributor", "distribute", "new parents", "--account", "NAME"] in _pasted(run.err)


def test_the_reauthorize_hint_names_the_account_and_its_advertiser() -> None:
    account = Account(7, "Demo TikTok", "tiktok", "7362187027677476632", "Admin", 0.0, None)
    commands = _pasted(reauthorize(account, "sports fans"))
    assert [
        "distributor", "accounts", "add", "tiktok", "--advertiser-id", "7362187027677476632",
        "--name", "Demo TikTok", "--auth-code", "CODE",
    ] in commands  # fmt: skip
    assert ["distributor", "accounts", "check", "Demo TikTok"] in commands
    assert ["distributor", "sync", "sports fans"] in commands


def test_the_copy_and_remove_hints_quote_their_names() -> None:
    with pytest.raises(RuleError) as copy:
        check_one_account("sports fans", "New Account", ["Other Account"])
    assert ["distributor", "segments", "copy", "sports fans", "--name", "NEW"] in _pasted(
        str(copy.value)
    )
    with pytest.raises(RuleError) as remove:
        check_account_name("Demo TikTok", ["Demo TikTok"])
    assert ["distributor", "accounts", "remove", "Demo TikTok"] in _pasted(str(remove.value))
