"""The resolver's control plane: one SQLite database (WAL) holding partners, the state of
every inbox file, and segments with their versions.

A file moves through   claimed → processed → committed → purged
                  or   claimed → quarantined | duplicate
and every move is one transaction, so a crash leaves each file in exactly one state that
the next start resumes from. Segment versions point at immutable Parquet snapshots in the
store; the `segment_versions` table is the store's manifest (a version exists only once its
row is committed, after its snapshot was written and fsynced).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolver.errors import SegmentError

SCHEMA = """
CREATE TABLE IF NOT EXISTS partners (
    name TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    created REAL NOT NULL
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
    claimed REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_content ON files (partner, content_mac);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    partner TEXT NOT NULL,
    name TEXT NOT NULL,
    norm TEXT NOT NULL UNIQUE,
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


def normalize_segment_name(name: str) -> str:
    """Names are unique case- and spacing-insensitively: "Sports  Fans" = "sports fans"."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def check_segment_name(name: str) -> str:
    clean = re.sub(r"\s+", " ", name).strip()
    if not clean or len(clean) > 128:
        raise SegmentError("a segment name must have 1 to 128 characters")
    if any(ord(ch) < 32 for ch in clean):
        raise SegmentError("a segment name must not contain control characters")
    return clean


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

    @classmethod
    def of(cls, row: sqlite3.Row) -> FileRecord:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SegmentRecord:
    id: int
    partner: str
    name: str
    source_id: int | None
    version: int
    members: int
    updated: float


class Control:
    """A connection to the control database. Short transactions; safe across processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        path.chmod(0o600)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- partners -------------------------------------------------------------------

    def add_partner(self, name: str, region: str) -> bool:
        with self.transaction() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO partners (name, region, created) VALUES (?, ?, ?)",
                (name, region, time.time()),
            )
            return cur.rowcount == 1

    def partners(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM partners ORDER BY name").fetchall()

    # -- files ----------------------------------------------------------------------

    def claim(
        self, partner: str, name: str, kind: str, work_name: str, size: int, sidecar: str | None
    ) -> int:
        now = time.time()
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO files (partner, name, kind, work_name, state, size, sidecar,"
                " claimed, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (partner, name, kind, work_name, CLAIMED, size, sidecar, now, now),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def file(self, file_id: int) -> FileRecord:
        return FileRecord.of(_one(self.db.execute("SELECT * FROM files WHERE id = ?", (file_id,))))

    def unfinished(self) -> list[FileRecord]:
        rows = self.db.execute(
            "SELECT * FROM files WHERE state IN ('claimed', 'processed', 'committed')"
            " ORDER BY partner, name, id"
        )
        return [FileRecord.of(row) for row in rows]

    def set_state(self, file_id: int, state: str, **fields: Any) -> None:
        with self.transaction() as db:
            self._set(db, file_id, state, **fields)

    @staticmethod
    def _set(db: sqlite3.Connection, file_id: int, state: str, **fields: Any) -> None:
        fields |= {"state": state, "updated": time.time()}
        assigns = ", ".join(f"{name} = ?" for name in fields)
        db.execute(
            f"UPDATE files SET {assigns} WHERE id = ?",  # noqa: S608 - names are ours
            (*fields.values(), file_id),
        )

    def original(self, partner: str, kind: str, content_mac: str, file_id: int) -> int | None:
        """An earlier file of the partner with the same content that was ingested (or is
        being ingested), if any."""
        row = self.db.execute(
            "SELECT id FROM files WHERE partner = ? AND kind = ? AND content_mac = ? AND id < ?"
            " AND state IN ('claimed', 'processed', 'committed', 'purged') ORDER BY id LIMIT 1",
            (partner, kind, content_mac, file_id),
        ).fetchone()
        return None if row is None else int(row["id"])

    def files(self, state: str | None = None, limit: int = 1000) -> list[sqlite3.Row]:
        if state is None:
            query, args = "SELECT * FROM files ORDER BY id DESC LIMIT ?", (limit,)
        else:
            query = "SELECT * FROM files WHERE state = ? ORDER BY id DESC LIMIT ?"
            args = (state, limit)  # type: ignore[assignment]
        return self.db.execute(query, args).fetchall()

    def counts_by_state(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) AS n FROM files GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    # -- segments -------------------------------------------------------------------

    def segment(self, name: str) -> SegmentRecord | None:
        row = self.db.execute(
            "SELECT * FROM segments WHERE norm = ?", (normalize_segment_name(name),)
        ).fetchone()
        return None if row is None else _segment(row)

    def segment_by_id(self, segment_id: int) -> SegmentRecord:
        return _segment(_one(self.db.execute("SELECT * FROM segments WHERE id = ?", (segment_id,))))

    def segments(self, partner: str | None = None) -> list[SegmentRecord]:
        if partner is None:
            rows = self.db.execute("SELECT * FROM segments ORDER BY norm")
        else:
            rows = self.db.execute(
                "SELECT * FROM segments WHERE partner = ? ORDER BY norm", (partner,)
            )
        return [_segment(row) for row in rows]

    def copies(self, segment_id: int) -> list[SegmentRecord]:
        rows = self.db.execute("SELECT * FROM segments WHERE source_id = ?", (segment_id,))
        return [_segment(row) for row in rows]

    def version(self, segment_id: int, version: int) -> sqlite3.Row | None:
        return self.db.execute(  # type: ignore[no-any-return]
            "SELECT * FROM segment_versions WHERE segment_id = ? AND version = ?",
            (segment_id, version),
        ).fetchone()

    def committed_files(self, partner: str) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM files WHERE partner = ? AND kind = 'data'"
            " AND state IN ('committed', 'purged') ORDER BY id",
            (partner,),
        )
        return [int(row["id"]) for row in rows]

    def versions(self, segment_id: int) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM segment_versions WHERE segment_id = ? ORDER BY version",
            (segment_id,),
        ).fetchall()

    @staticmethod
    def create_segment(
        db: sqlite3.Connection, partner: str, name: str, source_id: int | None = None
    ) -> int:
        clean = check_segment_name(name)
        now = time.time()
        try:
            cur = db.execute(
                "INSERT INTO segments (partner, name, norm, source_id, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (partner, clean, normalize_segment_name(clean), source_id, now, now),
            )
        except sqlite3.IntegrityError:
            raise SegmentError(
                f"the segment name {clean!r} is already taken (names are unique, ignoring"
                " case and spacing); choose another name"
            ) from None
        assert cur.lastrowid is not None
        return cur.lastrowid

    @staticmethod
    def add_version(
        db: sqlite3.Connection,
        segment_id: int,
        version: int,
        file_id: int | None,
        members: int,
        added: int,
        removed: int,
        path: str,
    ) -> None:
        now = time.time()
        db.execute(
            "INSERT INTO segment_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (segment_id, version, file_id, members, added, removed, path, now),
        )
        db.execute(
            "UPDATE segments SET version = ?, members = ?, updated = ? WHERE id = ?",
            (version, members, now, segment_id),
        )

    def rename_segment(self, name: str, new: str) -> SegmentRecord:
        record = self.segment(name)
        if record is None:
            raise SegmentError(f"there is no segment named {name!r}")
        clean = check_segment_name(new)
        with self.transaction() as db:
            try:
                db.execute(
                    "UPDATE segments SET name = ?, norm = ?, updated = ? WHERE id = ?",
                    (clean, normalize_segment_name(clean), time.time(), record.id),
                )
            except sqlite3.IntegrityError:
                raise SegmentError(f"the segment name {clean!r} is already taken") from None
        return self.segment_by_id(record.id)


def _segment(row: sqlite3.Row) -> SegmentRecord:
    return SegmentRecord(
        id=row["id"],
        partner=row["partner"],
        name=row["name"],
        source_id=row["source_id"],
        version=row["version"],
        members=row["members"],
        updated=row["updated"],
    )


def _one(cursor: sqlite3.Cursor) -> sqlite3.Row:
    row = cursor.fetchone()
    if row is None:
        raise LookupError("no such record")
    return row  # type: ignore[no-any-return]
