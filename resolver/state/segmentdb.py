"""The segments' rows in the control database (state/resolver.db, schema in control.py):
segments, their copies and names, and their versions. `Control` has these methods; every
transaction that records a file's versions is Control's (`commit`).

A segment has two names. `given` is the partner's (what its files say), unique per
partner, so a partner never learns that another partner has a segment of the same name.
`name` is the operators' (what the distributor and `segments` commands use), unique in
the home: the partner's name when it is free, else qualified as "NAME (PARTNER)". A
rename changes the operators' name only: the partner's files still reach the segment.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from resolver.errors import SegmentError, StoreError
from resolver.state.db import Database, record


@dataclass(frozen=True)
class SegmentRecord:
    id: int
    partner: str
    name: str
    source_id: int | None
    version: int
    members: int
    updated: float
    given: str | None  # the partner's name (a copy: its own name)


@dataclass(frozen=True)
class VersionRecord:
    segment_id: int
    version: int
    file_id: int | None
    members: int
    added: int
    removed: int
    path: str
    created: float


@dataclass(frozen=True)
class NewVersion:
    """A version to record. `segment_id` None: the segment is new and named `name`."""

    segment_id: int | None
    partner: str
    name: str
    norm: str
    version: int
    members: int
    added: int
    removed: int
    path: str


class SegmentRows:
    """The segment statements of `Control` (a mixin: `database` is Control's)."""

    database: Database

    # -- segments -------------------------------------------------------------------

    def segment(self, norm: str) -> SegmentRecord | None:
        row = self.database.row("SELECT * FROM segments WHERE norm = ?", (norm,))
        return None if row is None else record(SegmentRecord, row)

    def partner_segment(self, partner: str, given_norm: str) -> SegmentRecord | None:
        """The partner's segment its files call `given_norm` (normalized)."""
        row = self.database.row(
            "SELECT * FROM segments WHERE partner = ? AND given_norm = ?", (partner, given_norm)
        )
        return None if row is None else record(SegmentRecord, row)

    def segment_by_id(self, segment_id: int) -> SegmentRecord:
        row = self.database.row("SELECT * FROM segments WHERE id = ?", (segment_id,))
        if row is None:
            raise StoreError(f"segment {segment_id} is not in the control database")
        return record(SegmentRecord, row)

    def segments(self, partner: str | None = None) -> list[SegmentRecord]:
        where, args = ("", ()) if partner is None else ("WHERE partner = ?", (partner,))
        sql = f"SELECT * FROM segments {where} ORDER BY norm"  # noqa: S608 - ours
        return [record(SegmentRecord, row) for row in self.database.rows(sql, args)]

    def copies(self, segment_id: int) -> list[SegmentRecord]:
        rows = self.database.rows("SELECT * FROM segments WHERE source_id = ?", (segment_id,))
        return [record(SegmentRecord, row) for row in rows]

    def version(self, segment_id: int, version: int) -> VersionRecord | None:
        row = self.database.row(
            "SELECT * FROM segment_versions WHERE segment_id = ? AND version = ?",
            (segment_id, version),
        )
        return None if row is None else record(VersionRecord, row)

    def versions(self, segment_id: int) -> list[VersionRecord]:
        rows = self.database.rows(
            "SELECT * FROM segment_versions WHERE segment_id = ? ORDER BY version", (segment_id,)
        )
        return [record(VersionRecord, row) for row in rows]

    def create_copy(self, source: SegmentRecord, name: str, norm: str) -> int:
        """A segment that follows `source`, starting at its current version's members."""
        with self.database.transaction() as db:
            copy_id = create_segment(db, source.partner, (name, norm), source.id, exact=True)
            row = self.version(source.id, source.version)
            if row is not None:  # the source's members, all of them joined
                first = NewVersion(
                    copy_id, source.partner, name, norm, 1, row.members, row.members, 0, row.path
                )
                add_versions(db, [first], None)
        return copy_id

    def rename_segment(self, segment_id: int, name: str, norm: str) -> None:
        try:
            self.database.write(
                "UPDATE segments SET name = ?, norm = ?, updated = ? WHERE id = ?",
                (name, norm, time.time(), segment_id),
            )
        except sqlite3.IntegrityError:
            raise SegmentError(f"the segment name {name!r} is already taken") from None


def create_segment(
    db: sqlite3.Connection,
    partner: str,
    given: tuple[str, str],
    source_id: int | None,
    exact: bool = False,
) -> int:
    """A new segment of `partner` named `given` (name, normalized); its operators' name
    is the same when free, else qualified (`exact`: that name or SegmentError)."""
    name, norm = given
    label, label_norm = (name, norm) if exact else _free_label(db, partner, given)
    now = time.time()
    try:
        cur = db.execute(
            "INSERT INTO segments (partner, name, norm, given, given_norm, source_id, created,"
            " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (partner, label, label_norm, name, norm, source_id, now, now),
        )
    except sqlite3.IntegrityError:
        raise SegmentError(
            f"the segment name {name!r} is already taken (names are unique, ignoring"
            " case and spacing); choose another name"
        ) from None
    assert cur.lastrowid is not None
    return cur.lastrowid


def _free_label(db: sqlite3.Connection, partner: str, given: tuple[str, str]) -> tuple[str, str]:
    name, norm = given
    candidates = [(name, norm)] + [
        (f"{name} ({partner}{suffix})", f"{norm} ({partner}{suffix})".casefold())
        for suffix in ["", *(f" {n}" for n in range(2, 100))]
    ]
    for label, label_norm in candidates:
        if db.execute("SELECT 1 FROM segments WHERE norm = ?", (label_norm,)).fetchone() is None:
            return label, label_norm
    raise SegmentError(f"no free name for the segment {name!r} of partner {partner}")


def add_versions(
    db: sqlite3.Connection, versions: Sequence[NewVersion], file_id: int | None
) -> None:
    now = time.time()
    for v in versions:
        segment_id = v.segment_id
        if segment_id is None:
            segment_id = create_segment(db, v.partner, (v.name, v.norm), None)
        db.execute(
            "INSERT INTO segment_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (segment_id, v.version, file_id, v.members, v.added, v.removed, v.path, now),
        )
        db.execute(
            "UPDATE segments SET version = ?, members = ?, updated = ? WHERE id = ?",
            (v.version, v.members, now, segment_id),
        )
