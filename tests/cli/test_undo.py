"""Undo, through the installed scripts against the emulator as a real server: undistribute
(keeping or deleting the audience) and accounts remove with its distributions."""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections.abc import Iterator

import pytest

from distributor.sandbox.process import start_sandbox
from tests.cli.site import Site, make_site

ACCOUNT = "Brand US"
# A real emulator process and two scripts per test: in the slow pass, to keep the default
# run under 10 minutes on 2 cores.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("undo")
    with start_sandbox("--users", "1000") as sandbox:
        yield make_site(root / "h", sandbox, ACCOUNT)


_names = (f"sports fans {n}" for n in itertools.count(1))


@pytest.fixture
def distributed(site: Site) -> str:
    """A new copy of the sample's segment, distributed to ACCOUNT."""
    name = next(_names)
    site.ok("distributor", "segments", "copy", "sports fans", "--name", name)
    site.ok("distributor", "distribute", name, "--account", ACCOUNT)
    assert name in site.audiences()
    return name


def _distributions(site: Site) -> list[tuple[str, str]]:
    status = json.loads(site.ok("distributor", "status", "--json").out)
    return [(r["segment"], r["account"]) for r in status]


def test_without_a_terminal_it_asks_for_yes_and_changes_nothing(
    site: Site, distributed: str
) -> None:
    run = site.run("distributor", "undistribute", distributed, "--account", ACCOUNT)
    assert run.code == 1
    assert "--yes" in run.one_line_error
    assert (distributed, ACCOUNT) in _distributions(site)


def test_undistribute_keeps_the_audience_and_frees_the_segment(
    site: Site, distributed: str
) -> None:
    run = site.ok("distributor", "undistribute", distributed, "--account", ACCOUNT, "--yes")
    assert "stays in the ad account" in run.out
    assert (distributed, ACCOUNT) not in _distributions(site)
    assert distributed in site.audiences()  # kept on the platform, as it was
    # the segment may now go to another account: the one-account rule no longer holds it
    site.add_account("Brand EU", advertiser=1)
    site.ok("distributor", "distribute", distributed, "--account", "Brand EU")
    assert distributed in site.audiences(advertiser=1)
    assert (distributed, "Brand EU") in _distributions(site)


def test_undistribute_can_delete_the_audience(site: Site, distributed: str) -> None:
    run = site.ok(
        "distributor", "undistribute", distributed.upper(), "--account", ACCOUNT,
        "--delete-audience", "--yes", "--json",
    )  # fmt: skip
    done = json.loads(run.out)
    assert set(done) == {"segment", "account", "audience_id", "audience_name", "audience", "runs"}
    assert done["segment"] == distributed  # the name as the ledger spells it
    assert done["audience"] == "deleted"
    assert done["runs"] == 1
    assert distributed not in site.audiences()
    # and the same segment can be distributed there again, as a new audience
    site.ok("distributor", "distribute", distributed, "--account", ACCOUNT)
    assert distributed in site.audiences()


def test_an_audience_deleted_on_the_platform_is_already_gone(site: Site, distributed: str) -> None:
    box = site.sandbox
    body = {
        "advertiser_id": box.advertiser(),
        "custom_audience_ids": [site.audiences()[distributed]],
    }
    with box.client(box.token()) as client:  # deleted in TikTok Ads Manager, as it were
        assert client.post("dmp/custom_audience/delete/", json=body).json()["code"] == 0
    run = site.ok(
        "distributor", "undistribute", distributed, "--account", ACCOUNT, "--delete-audience", "-y"
    )
    assert "already gone" in run.out


def test_undistribute_of_what_is_not_distributed_says_where_it_is(
    site: Site, distributed: str
) -> None:
    site.add_account("Brand Other", advertiser=1)
    run = site.run("distributor", "undistribute", distributed, "--account", "Brand Other", "-y")
    assert run.code == 1
    assert f"it is distributed to {ACCOUNT!r}" in run.one_line_error


def test_accounts_remove_names_the_commands_that_undo_its_distributions(
    site: Site, distributed: str
) -> None:
    run = site.run("distributor", "accounts", "remove", ACCOUNT)
    assert run.code == 1
    pasted = [shlex.split(c) for c in re.findall(r"`([^`]+)`", run.one_line_error)]
    assert ["distributor", "undistribute", distributed, "--account", ACCOUNT] in pasted
    assert ["distributor", "accounts", "remove", ACCOUNT, "--with-distributions"] in pasted


def test_accounts_remove_with_distributions(site: Site, distributed: str) -> None:
    site.add_account("Brand Gone")
    site.ok("distributor", "segments", "copy", distributed, "--name", distributed + " copy")
    site.ok("distributor", "distribute", distributed + " copy", "--account", "Brand Gone")
    run = site.ok(
        "distributor", "accounts", "remove", "Brand Gone", "--with-distributions",
        "--delete-audiences", "--yes",
    )  # fmt: skip
    assert "removed account Brand Gone" in run.out
    assert distributed + " copy" not in site.audiences()
    assert distributed in site.audiences()  # another account's distribution is untouched
    accounts = json.loads(site.ok("distributor", "accounts", "list", "--json").out)["accounts"]
    assert "Brand Gone" not in [a["name"] for a in accounts]
    assert all(account != "Brand Gone" for _, account in _distributions(site))
