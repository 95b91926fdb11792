"""Segment names through the installed scripts: a name too long in one cell rejects its
row (named by its row number); two partners' segments of one name are both taken, and the
distributor sends both to one ad account under distinct audience names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from distributor.sandbox.process import start_sandbox
from resolver import sample_frame
from tests.cli.site import Site, make_site
from tests.cli.support import script

ACCOUNT = "Brand US"


def test_a_too_long_segment_name_rejects_its_row(home: Path) -> None:
    def resolver(*args: str) -> None:
        run = script("resolver", *args, "--home", str(home), cwd=home)
        assert run.code == 0, run

    resolver("partners", "add", "acme")
    rows = [
        "email,segments",
        "a@example.com,fans",
        f"b@example.com,{'z' * 130}",
        "c@example.com,fans",
    ]
    (home / "inbox" / "acme" / "a.csv").write_text("\n".join(rows) + "\n")
    (home / "inbox" / "acme" / "a.csv.done").write_bytes(b"")
    resolver("serve", "--once")
    resolved = pl.read_csv(home / "outbox" / "acme" / "a.csv.resolved.csv")
    assert resolved.select("row", "reject_reason").rows() == [
        (1, None),
        (2, "invalid_segment"),
        (3, None),
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("names")
    with start_sandbox("--users", "1000") as sandbox:
        made = make_site(root / "h", sandbox, ACCOUNT)
        made.ok("resolver", "partners", "add", "zenith")
        sample_frame(200, seed=9).write_csv(made.home / "inbox" / "zenith" / "z.csv")
        (made.home / "inbox" / "zenith" / "z.csv.done").write_bytes(b"")
        made.ok("resolver", "serve", "--once")
        yield made


def test_two_partners_one_name_two_audiences(site: Site) -> None:
    listed = json.loads(site.ok("distributor", "segments", "list", "--json").out)["segments"]
    fans = sorted((s["segment"], s["partner"]) for s in listed if "sports fans" in s["segment"])
    assert fans == [("sports fans", "acme"), ("sports fans (zenith)", "zenith")]
    assert not list((site.home / "quarantine" / "zenith").iterdir())
    site.ok("distributor", "distribute", "sports fans", "--account", ACCOUNT)
    site.ok("distributor", "distribute", "sports fans (zenith)", "--account", ACCOUNT)
    assert {"sports fans", "sports fans (zenith)"} <= set(site.audiences())
