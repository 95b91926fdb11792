"""Removing a partner: everything held for it goes, nothing of another partner does; its
name is retired; a crash after the first step is finished by removing again; refused
while serve runs or while its segments are distributed."""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
from pathlib import Path

import pytest

from resolver.errors import OptionError, ServiceError
from resolver.home import Home
from resolver.inbox.service import serve_lock
from resolver.partners import add_partner
from resolver.removal import distributed_segments, remove_partner, survey
from resolver.segments.catalog import Segments
from resolver.state.control import Control
from tests.resolver.inbox.support import csv_text, drop, people, run_once


@pytest.fixture
def served(acme: Home) -> Home:
    """acme and zenith with committed files, segments and graphs; acme with a quarantined
    file and one waiting."""
    drop(acme, "acme", "a.csv", csv_text(people(0, 20, "acme fans")))
    drop(acme, "acme", "bad.csv", "name\nAda\n")
    drop(acme, "zenith", "z.csv", csv_text(people(0, 10, "zenith fans")))
    assert run_once(acme) == {"purged": 2, "quarantined": 1}
    drop(acme, "acme", "later.csv", csv_text(people(0, 3)), done=False)
    return acme


def _everything(home: Home) -> list[str]:
    return sorted(str(p.relative_to(home.root)) for p in home.root.rglob("*") if p.is_file())


def test_remove_takes_everything_of_the_partner_and_nothing_else(served: Home) -> None:
    found = survey(served, "acme")
    assert (found.files, found.waiting, found.quarantined) == (2, 1, 1)
    assert found.segments == ["acme fans"]
    assert found.identifiers > 0
    remove_partner(served, "acme", distributed=[])
    left = _everything(served)
    assert not [
        p for p in left if "/acme/" in f"/{p}" or p.startswith(("inbox/acme", "outbox/acme"))
    ]
    assert any(p.startswith("outbox/zenith/") for p in left)
    with Control(served.control_db) as control:
        assert [p.name for p in control.partners()] == ["zenith"]
        assert control.files()[0].partner == "zenith"
        assert len(control.files()) == 1
        for table in ("segments", "graph_generations", "graph_parts"):
            sql = f"SELECT partner FROM {table}"  # noqa: S608 - ours
            partners = {r["partner"] for r in control.database.rows(sql)}
            assert partners == {"zenith"}, table
        assert control.retired_partner("acme") is not None
    with Segments(served) as segments:
        assert [(s.name, s.members) for s in segments.all()] == [("zenith fans", 10)]
    with pytest.raises(OptionError, match="its name is retired"):
        add_partner(served, "acme")
    drop(served, "zenith", "z2.csv", csv_text(people(0, 12, "zenith fans")))
    assert run_once(served) == {"purged": 1}  # zenith goes on as before


def test_a_crash_after_the_first_step_is_finished_by_removing_again(
    served: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(path: Path, ignore_errors: bool = False) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(shutil, "rmtree", killed)
        with pytest.raises(KeyboardInterrupt):
            remove_partner(served, "acme", distributed=[])
    with Control(served.control_db) as control:
        assert [p.name for p in control.partners()] == ["zenith"]  # no acme file is taken
    assert (served.inbox / "acme" / "later.csv").exists()
    assert run_once(served) == {}
    remove_partner(served, "acme", distributed=[])
    assert not (served.inbox / "acme").exists()
    with Control(served.control_db) as control:
        retired = control.retired_partner("acme")
        assert retired is not None
        assert retired[0] == "removed"


def test_refused_while_serve_runs(served: Home) -> None:
    with serve_lock(served), pytest.raises(ServiceError, match="another `resolver serve`"):
        remove_partner(served, "acme", distributed=[])
    assert survey(served, "acme").files == 2


def test_refused_while_its_segments_are_distributed(served: Home) -> None:
    with sqlite3.connect(served.state / "distributor.db") as ledger:
        ledger.execute("CREATE TABLE distributions (segment TEXT)")
        ledger.execute("INSERT INTO distributions VALUES ('Acme Fans')")
    distributed = distributed_segments(served, survey(served, "acme").segments)
    assert distributed == ["acme fans"]
    with pytest.raises(OptionError, match="undistribute them first") as refused:
        remove_partner(served, "acme", distributed)
    pasted = [shlex.split(c) for c in re.findall(r"`([^`]+)`", str(refused.value))]
    assert ["distributor", "undistribute", "acme fans", "--account", "ACCOUNT"] in pasted
    assert survey(served, "acme").files == 2


def test_an_unknown_partner(acme: Home) -> None:
    with pytest.raises(OptionError, match="there is no partner ghost"):
        survey(acme, "ghost")
