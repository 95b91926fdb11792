"""The resolver's control plane: one SQLite database (state/resolver.db) holding partners,
the state of every inbox file, and segments with their versions; every SQL statement of
the resolver but the graph's (graphdb.py), the segments' (segmentdb.py, a mixin) and a
partner's removal (removal.py). A
file moves through claimed → processed → committed → purged, or claimed → quarantined |
duplicate, and every move is one transaction, so a crash leaves each file in exactly one
state that the next start resumes from. Segment versions point at immutable Parquet
snapshots in the store; the `segment_versions` table is the store's manifest (a version
exists only once its row is committed, after its snapshot was written and fsynced).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolver.errors import StoreError
from resolver.state.db import Database, record
from resolver.state.segmentdb import (
    NewVersion,
    SegmentRecord,
    SegmentRows,
    VersionRecord,
    add_versions,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS partners (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS retired_partners (   -- removed partners' names (removal.py)
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,               -- "removing" | "removed"
    removed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    partner TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                -- "data" | "optout"
    work_name TEXT NOT NULL,           -- path in the inbox, as hex of its bytes
    state TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_mac TEXT,                  -- keyed digest of the decompressed content
    duplicate_of INTEGER,
    sidecar TEXT,
    rows INTEGER,
    resolved INTEGER,
    rejected INTEGER,
    seconds REAL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,  -- runs started (a clean stop does not count)
    claimed REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_content ON files (partner, content_mac);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    partner TEXT NOT NULL,
    name TEXT NOT NULL,                -- the operators' name, unique in the home
    norm TEXT NOT NULL UNIQUE,
    given TEXT,                        -- the partner's name, unique per partner
    given_norm TEXT,
    source_id INTEGER,                 -- a copy follows its source's versions
    version INTEGER NOT NULL DEFAULT 0,
    members INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS segment_versions (
    segment_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    file_id INTEGER,
    members INTEGER NOT NULL,
    added INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    path TEXT NOT NULL,                -- the snapshot, relative to the store
    created REAL NOT NULL,
    PRIMARY KEY (segment_id, version)
);
"""

# States a file can be in; the first four are the happy path.
CLAIMED, PROCESSED, COMMITTED, PURGED = "claimed", "processed", "committed", "purged"
QUARANTINED, DUPLICATE = "quarantined", "duplicate"
# A quarantined file sent back to the inbox (`quarantine retry`: it comes back as a new
# file), or deleted (`quarantine purge`, or past `inbox.quarantine_days`).
RETRIED, DISCARDED = "retried", "discarded"
UNFINISHED = (CLAIMED, PROCESSED, COMMITTED)
STATES = (CLAIMED, PROCESSED, COMMITTED, PURGED, DUPLICATE, QUARANTINED, RETRIED, DISCARDED)


@dataclass(frozen=True)
class PartnerRecord:
    name: str
    region: str
    created: float


@dataclass(frozen=True)
class FileRecord:
    id: int
    partner: str
    name: str
    kind: str
    work_name: str
    state: str
    size: int
    content_mac: str | None
    sidecar: str | None
    duplicate_of: int | None
    rows: int | None
    seconds: float | None
    error: str | None  # JSON: code, file, line, column, message
    attempts: int
    updated: float


class Control(SegmentRows):
    """A connection to the control database. Short transactions; safe across processes."""

    def __init__(self, path: Path) -> None:
        self.database = Database(path, SCHEMA)
        _migrate(self.database)

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- partners -------------------------------------------------------------------

    def add_partner(self, name: str, region: str) -> bool:
        sql = "INSERT OR IGNORE INTO partners (name, region, created) VALUES (?, ?, ?)"
        return self.database.write(sql, (name, region, time.time())).rowcount == 1

    def set_partner_region(self, name: str, region: str) -> None:
        self.database.write("UPDATE partners SET region = ? WHERE name = ?", (region, name))

    def partners(self) -> list[PartnerRecord]:
        rows = self.database.rows("SELECT * FROM partners ORDER BY name")
        return [record(PartnerRecord, row) for row in rows]

    def partner(self, name: str) -> PartnerRecord | None:
        row = self.database.row("SELECT * FROM partners WHERE name = ?", (name,))
        return None if row is None else record(PartnerRecord, row)

    def retired_partner(self, name: str) -> tuple[str, float] | None:
        """(state, when) of a removed partner's name: it is never registered again."""
        row = self.database.row(
            "SELECT state, removed FROM retired_partners WHERE name = ?", (name,)
        )
        return None if row is None else (str(row["state"]), float(row["removed"]))

    # -- files ----------------------------------------------------------------------

    def claim(
        self, partner: str, name: str, kind: str, work_name: str, size: int, sidecar: str | None
    ) -> int:
        now = time.time()
        cur = self.database.write(
            "INSERT INTO files (partner, name, kind, work_name, state, size, sidecar,"
            " claimed, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (partner, name, kind, work_name, CLAIMED, size, sidecar, now, now),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def file(self, file_id: int) -> FileRecord:
        row = self.database.row("SELECT * FROM files WHERE id = ?", (file_id,))
        if row is None:
            raise StoreError(f"file {file_id} is not in the control database")
        return record(FileRecord, row)

    def files(self, state: str | None = None, limit: int = 1000) -> list[FileRecord]:
        where, args = ("", ()) if state is None else ("WHERE state = ?", (state,))
        sql = f"SELECT * FROM files {where} ORDER BY id DESC LIMIT ?"  # noqa: S608 - ours
        return [record(FileRecord, row) for row in self.database.rows(sql, (*args, limit))]

    def unfinished(self) -> list[FileRecord]:
        rows = self.database.rows(
            "SELECT * FROM files WHERE state IN (?, ?, ?) ORDER BY partner, name, id", UNFINISHED
        )
        return [record(FileRecord, row) for row in rows]

    def set_state(self, file_id: int, state: str, **values: Any) -> None:
        with self.database.transaction() as db:
            _set_state(db, file_id, state, values)

    def move(self, file_id: int, before: str, after: str) -> bool:
        """Move the file from state `before` to `after`; False if it was not in `before`
        (another process moved it first)."""
        with self.database.transaction() as db:
            found = db.execute("SELECT state FROM files WHERE id = ?", (file_id,)).fetchone()
            if found is None or found["state"] != before:
                return False
            _set_state(db, file_id, after, {})
        return True

    def begin_attempt(self, file_id: int) -> int:
        """Count a run of the file starting; returns how many started without ending."""
        with self.database.transaction() as db:
            db.execute("UPDATE files SET attempts = attempts + 1 WHERE id = ?", (file_id,))
            row = db.execute("SELECT attempts FROM files WHERE id = ?", (file_id,)).fetchone()
        return int(row["attempts"])

    def end_attempt(self, file_id: int) -> None:
        """The run stopped cleanly (asked to, or a system fault): it does not count."""
        self.database.write(
            "UPDATE files SET attempts = max(attempts - 1, 0) WHERE id = ?", (file_id,)
        )

    def retried(self, rec: FileRecord) -> FileRecord | None:
        """The file `rec` repeats, if any: the partner's latest file of the same kind that
        was ingested (or is being ingested) before it, when it has the same content. A
        re-send of older content after another file is a new file, not a retry."""
        row = self.database.row(
            "SELECT * FROM files WHERE partner = ? AND kind = ? AND id < ?"
            " AND state IN (?, ?, ?, ?) ORDER BY id DESC LIMIT 1",
            (rec.partner, rec.kind, rec.id, *UNFINISHED, PURGED),
        )
        if row is None or rec.content_mac is None or row["content_mac"] != rec.content_mac:
            return None
        return record(FileRecord, row)

    def counts_by_state(self, partner: str | None = None) -> dict[str, int]:
        where, args = ("", ()) if partner is None else ("WHERE partner = ?", (partner,))
        sql = f"SELECT state, count(*) AS n FROM files {where} GROUP BY state"  # noqa: S608
        return {row["state"]: row["n"] for row in self.database.rows(sql, args)}

    def recent_throughput(self, files: int = 20) -> tuple[int, int, float]:
        """(files, rows, seconds) over the last committed files that took time."""
        row = self.database.row(
            "SELECT count(*) AS files, sum(rows) AS rows, sum(seconds) AS seconds FROM"
            " (SELECT rows, seconds FROM files WHERE state IN (?, ?) AND seconds > 0"
            " ORDER BY id DESC LIMIT ?)",
            (COMMITTED, PURGED, files),
        )
        assert row is not None
        return int(row["files"] or 0), int(row["rows"] or 0), float(row["seconds"] or 0.0)

    def committed_files(self, partner: str) -> list[int]:
        rows = self.database.rows(
            "SELECT id FROM files WHERE partner = ? AND kind = 'data' AND state IN (?, ?)"
            " ORDER BY id",
            (partner, COMMITTED, PURGED),
        )
        return [int(row["id"]) for row in rows]

    def commit(
        self,
        file_id: int,
        versions: Sequence[NewVersion],
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Record a file's segment versions and mark it committed, in one transaction
        (with `also`: the file's graph generation, committed in the same transaction)."""
        with self.database.transaction() as db:
            add_versions(db, versions, file_id)
            if also is not None:
                also(db)
            _set_state(db, file_id, COMMITTED, {})

    def record_versions(
        self,
        versions: Sequence[NewVersion],
        also: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Segment versions no file made (an erasure), with `also` in the same transaction."""
        with self.database.transaction() as db:
            add_versions(db, versions, None)
            if also is not None:
                also(db)


def _migrate(database: Database) -> None:
    """Columns added since a database was made (SQLite's CREATE IF NOT EXISTS adds none)."""
    columns = {row["name"] for row in database.rows("PRAGMA table_info(files)")}
    if "attempts" not in columns:
        database.write("ALTER TABLE files ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    segments = {row["name"] for row in database.rows("PRAGMA table_info(segments)")}
    with database.transaction() as db:
        for column in ("given", "given_norm") if "given" not in segments else ():
            db.execute(f"ALTER TABLE segments ADD COLUMN {column} TEXT")
        # Before names were per partner, a segment's name was also the partner's.
        db.execute("UPDATE segments SET given = name, given_norm = norm WHERE given IS NULL")
        db.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS segments_given ON segments (partner, given_norm)"
        )


def _set_state(db: sqlite3.Connection, file_id: int, state: str, values: dict[str, Any]) -> None:
    values = values | {"state": state, "updated": time.time()}
    assigns = ", ".join(f"{name} = ?" for name in values)
    db.execute(
        f"UPDATE files SET {assigns} WHERE id = ?",  # noqa: S608 - names are ours
        (*values.values(), file_id),
    )


__all__ = [
    "NewVersion",
    "SegmentRecord",
    "VersionRecord",
]
