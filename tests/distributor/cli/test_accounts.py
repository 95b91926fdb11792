"""`distributor accounts` against the emulator (in process, through the CLI's seam)."""

from __future__ import annotations

from pathlib import Path

import pytest

from distributor.errors import AuthError
from distributor.sandbox.handle import InProcessSandbox
from tests.distributor.helpers import accounts_add, add_account, cli, members, wire, workspace


def test_add_with_token_env_lists_masked_and_encrypted(
    home: Path, sandbox: InProcessSandbox
) -> None:
    wire(home, sandbox)
    token = sandbox.token("admin")
    add_account(home, sandbox)
    listing = cli(home, sandbox, "accounts", "list")
    assert listing.exit_code == 0, listing.output
    assert "acme" in listing.output
    assert sandbox.advertiser() in listing.output
    assert token not in listing.output
    assert "****" + token[-4:] in listing.output
    stored = b"".join(p.read_bytes() for p in (home / "state").glob("distributor.db*"))
    assert token.encode() not in stored
    check = cli(home, sandbox, "accounts", "check")
    assert check.exit_code == 0
    assert "acme: ok" in check.output


def test_add_with_auth_code_and_operator(home: Path, sandbox: InProcessSandbox) -> None:
    wire(home, sandbox)
    code = sandbox.auth_code([sandbox.advertiser(1)], role="OPERATOR")
    result = accounts_add(home, sandbox, sandbox.advertiser(1), "op", code=code)
    assert result.exit_code == 0, result.output
    assert "added account op" in result.output
    # a used code cannot be exchanged again
    again = accounts_add(home, sandbox, sandbox.advertiser(1), "op2", code=code)
    assert again.exit_code != 0
    assert "auth code" in again.output


def test_analyst_is_refused_with_the_needed_role(home: Path, sandbox: InProcessSandbox) -> None:
    wire(home, sandbox)
    result = accounts_add(home, sandbox, sandbox.advertiser(), "ro", token=sandbox.token("analyst"))
    assert result.exit_code != 0
    assert "Admin or Operator" in result.output
    assert "ro" not in cli(home, sandbox, "accounts", "list").output.split()


def test_bad_advertiser_id_and_names(home: Path, sandbox: InProcessSandbox) -> None:
    wire(home, sandbox)
    token = sandbox.token("admin")
    short = accounts_add(home, sandbox, "12345", "x", token=token)
    assert short.exit_code != 0
    assert "19 digits" in short.output
    long_name = accounts_add(home, sandbox, sandbox.advertiser(), "n" * 150, token=token)
    assert long_name.exit_code != 0
    assert "1-149" in long_name.output
    add_account(home, sandbox)
    duplicate = accounts_add(home, sandbox, sandbox.advertiser(1), "acme", token=token)
    assert duplicate.exit_code != 0
    assert "exists" in duplicate.output
    both = cli(
        home,
        sandbox,
        *("accounts", "add", "tiktok", "--advertiser-id", sandbox.advertiser(), "--name", "y"),
    )
    assert both.exit_code != 0
    assert "exactly one" in both.output
    assert "Traceback" not in both.output


def test_revoked_token_fails_check_then_remove(home: Path, sandbox: InProcessSandbox) -> None:
    wire(home, sandbox)
    add_account(home, sandbox)
    sandbox.revoke(sandbox.token("admin"))
    check = cli(home, sandbox, "accounts", "check", "acme")
    assert check.exit_code == 1
    assert "FAILED" in check.output
    assert cli(home, sandbox, "accounts", "remove", "acme").exit_code == 0
    assert "acme" not in cli(home, sandbox, "accounts", "list").output


def test_a_token_pasted_as_the_variable_name_is_never_echoed(
    home: Path, sandbox: InProcessSandbox
) -> None:
    """`--token-env <the token itself>` said "environment variable <token> is empty"
    (issue 9, item 12)."""
    wire(home, sandbox)
    token = sandbox.token("admin")
    args = ["accounts", "add", "tiktok", "--advertiser-id", sandbox.advertiser(), "--name", "a"]
    for pasted in (token, token.upper(), "x" * 30, "bad name!"):
        result = cli(home, sandbox, *args, "--token-env", pasted, env={})
        assert result.exit_code == 1
        assert pasted not in result.output
        assert "NAME of an environment variable" in result.output
    unset = cli(home, sandbox, *args, "--token-env", "TT_MISSING", env={})
    assert "environment variable TT_MISSING is empty or unset" in unset.output


def test_a_role_the_probe_cannot_prove_is_not_saved_as_admin(
    home: Path, sandbox: InProcessSandbox
) -> None:
    """If the platform checks parameters before permission, an Analyst's empty probe gets
    40002 like an Admin's: the role is saved `unverified`, and the first distribution
    confirms it or stops with what to do (issue 9, item 16)."""
    wire(home, sandbox)
    sandbox.faults(params_first=True)
    analyst = accounts_add(
        home, sandbox, sandbox.advertiser(), "ro", token=sandbox.token("analyst")
    )
    assert analyst.exit_code == 0, analyst.output
    assert "role unverified" in analyst.output
    admin = accounts_add(
        home, sandbox, sandbox.advertiser(1), "rw", token=sandbox.token("admin", 1)
    )
    assert admin.exit_code == 0, admin.output
    listing = cli(home, sandbox, "accounts", "list").output
    assert "Admin or Operator" not in listing
    with workspace(home, sandbox) as ws:
        with pytest.raises(AuthError, match="re-authorize"):
            ws.distribute("fans", members(range(50)), "ro")
        ws.distribute("fans eu", members(range(50)), "rw")
        roles = {a.name: a.role for a in ws.ledger.accounts.all()}
    assert roles == {"ro": "unverified", "rw": "Admin or Operator"}
