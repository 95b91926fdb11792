"""Segment names a partner sends: a name too long (or with control characters) in one
cell rejects that row, named by its row number, and the rest of the file goes on; in a
sidecar it quarantines the file naming the sidecar's `segment`; a database made before
names were per partner gets the partner's names from its own."""

from __future__ import annotations

import json

import polars as pl

from resolver.home import Home
from resolver.segments.catalog import Segments
from resolver.state.control import Control
from tests.resolver.inbox.support import csv_text, drop, people, run_once


def test_a_too_long_name_rejects_its_row_only(acme: Home) -> None:
    rows = people(0, 6, "sports")
    rows[3]["segments"] = "sports|" + "x" * 129
    rows[4]["segments"] = "bad\x01name"
    drop(acme, "acme", "a.csv", csv_text(rows))
    assert run_once(acme) == {"purged": 1}
    resolved = pl.read_csv(acme.outbox / "acme" / "a.csv.resolved.csv")
    rejected = resolved.filter(pl.col("reject_reason").is_not_null())
    assert rejected.select("row", "reject_reason").rows() == [
        (4, "invalid_segment"),
        (5, "invalid_segment"),
    ]
    report = json.loads((acme.outbox / "acme" / "a.csv.report.json").read_text())
    assert report["reject_reasons"] == {"invalid_segment": 2}
    with Segments(acme) as segments:
        assert [(s.name, s.members) for s in segments.all()] == [("sports", 4)]


def test_a_too_long_name_in_a_sidecar_names_the_sidecar(acme: Home) -> None:
    folder = acme.inbox / "acme"
    (folder / "a.csv.toml").write_text(f'segment = "{"y" * 200}"\n')
    drop(acme, "acme", "a.csv", csv_text(people(0, 3)))
    assert run_once(acme) == {"quarantined": 1}
    (error_file,) = (acme.quarantine / "acme").glob("*.error.json")
    error = json.loads(error_file.read_text())
    assert (error["code"], error["column"]) == ("bad_sidecar", "segment")
    assert "1 to 128 characters" in error["message"]
    assert "yyy" not in error_file.read_text()


def test_a_database_from_before_per_partner_names_is_migrated(acme: Home) -> None:
    drop(acme, "acme", "a.csv", csv_text(people(0, 3, "Sports")))
    assert run_once(acme) == {"purged": 1}
    # as an older Tessera left it
    with Control(acme.control_db) as control, control.database.transaction() as db:
        db.execute("DROP INDEX segments_given")
        db.execute("ALTER TABLE segments DROP COLUMN given_norm")
        db.execute("ALTER TABLE segments DROP COLUMN given")
    with Control(acme.control_db) as control:
        (segment,) = control.segments()
        assert segment.given == "Sports"
        assert control.partner_segment("acme", "sports") == segment
    drop(acme, "acme", "b.csv", csv_text(people(0, 5, "SPORTS")))
    assert run_once(acme) == {"purged": 1}
    with Segments(acme) as segments:
        assert [(s.name, s.members) for s in segments.all()] == [("Sports", 5)]
