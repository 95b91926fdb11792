"""The identity graphs' manifest, in the control database (state/resolver.db).

A partner's graph changes in generations: each file that adds to it, each rebuild and
each erasure makes one. A generation's row names what made it and its counts; its parts
(graph_parts) are the immutable files of the store that hold it: node keys, match keys,
edges, the per-node state, events and tombstones. A part belongs to every generation from
the one that added it until one that drops it (a compaction, or the next state), so a
generation is exactly the parts `added <= g < dropped`. A file's generation is recorded
`pending` when the file is processed and made `committed` in the transaction that commits
the file; a rebuild or an erasure commits its generation at once.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from resolver.state.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_generations (
    partner TEXT NOT NULL,
    generation INTEGER NOT NULL,
    status TEXT NOT NULL,              -- "pending" | "committed"
    cause TEXT NOT NULL,               -- "file" | "rebuild" | "forget"
    file_id INTEGER,
    nodes INTEGER NOT NULL,
    edges INTEGER NOT NULL,
    next_pid INTEGER NOT NULL,
    rules_version TEXT NOT NULL,
    counts TEXT NOT NULL,              -- JSON: what the change did, in counts
    created REAL NOT NULL,
    PRIMARY KEY (partner, generation)
);
CREATE TABLE IF NOT EXISTS graph_parts (
    partner TEXT NOT NULL,
    generation INTEGER NOT NULL,       -- the generation that added the part
    kind TEXT NOT NULL,                -- nodes | keys | edges | state | events | tombstones
    path TEXT NOT NULL UNIQUE,         -- relative to the store
    first INTEGER NOT NULL,            -- first node id (nodes, keys), else 0
    count INTEGER NOT NULL,
    dropped INTEGER                    -- the generation that replaced it
);
CREATE INDEX IF NOT EXISTS graph_parts_by_partner ON graph_parts (partner, kind);
"""

PENDING, COMMITTED = "pending", "committed"


@dataclass(frozen=True)
class Generation:
    partner: str
    generation: int
    status: str
    cause: str
    file_id: int | None
    nodes: int
    edges: int
    next_pid: int
    rules_version: str
    counts: str
    created: float

    @property
    def tally(self) -> dict[str, int]:
        found: dict[str, int] = json.loads(self.counts)
        return found


@dataclass(frozen=True)
class Part:
    kind: str
    path: str
    first: int = 0
    count: int = 0


def _generation(row: sqlite3.Row) -> Generation:
    return Generation(**{f.name: row[f.name] for f in fields(Generation)})


class GraphDB:
    """Every SQL statement about graphs; shares the control database's connection."""

    def __init__(self, database: Database) -> None:
        self.database = database
        database.db.executescript(SCHEMA)

    def current(self, partner: str) -> Generation | None:
        row = self.database.row(
            "SELECT * FROM graph_generations WHERE partner = ? AND status = ?"
            " ORDER BY generation DESC LIMIT 1",
            (partner, COMMITTED),
        )
        return None if row is None else _generation(row)

    def pending(self, partner: str) -> Generation | None:
        row = self.database.row(
            "SELECT * FROM graph_generations WHERE partner = ? AND status = ?",
            (partner, PENDING),
        )
        return None if row is None else _generation(row)

    def pending_of(self, file_id: int) -> Generation | None:
        row = self.database.row(
            "SELECT * FROM graph_generations WHERE file_id = ? AND status = ?",
            (file_id, PENDING),
        )
        return None if row is None else _generation(row)

    def history(self, partner: str) -> list[Generation]:
        rows = self.database.rows(
            "SELECT * FROM graph_generations WHERE partner = ? AND status = ? ORDER BY generation",
            (partner, COMMITTED),
        )
        return [_generation(row) for row in rows]

    def after(self, partner: str, generation: int, since: float) -> list[Generation]:
        """Committed generations after `generation`, committed at or after `since`."""
        rows = self.database.rows(
            "SELECT * FROM graph_generations WHERE partner = ? AND status = ? AND generation > ?"
            " AND created >= ? ORDER BY generation",
            (partner, COMMITTED, generation, since),
        )
        return [_generation(row) for row in rows]

    def partners(self) -> list[str]:
        rows = self.database.rows(
            "SELECT DISTINCT partner FROM graph_generations WHERE status = ? ORDER BY partner",
            (COMMITTED,),
        )
        return [row["partner"] for row in rows]

    def parts(self, partner: str, generation: int, kind: str) -> list[Part]:
        rows = self.database.rows(
            "SELECT kind, path, first, count FROM graph_parts WHERE partner = ? AND kind = ?"
            " AND generation <= ? AND (dropped IS NULL OR dropped > ?) ORDER BY first, generation",
            (partner, kind, generation, generation),
        )
        return [Part(row["kind"], row["path"], row["first"], row["count"]) for row in rows]

    def record(
        self,
        record: Generation,
        parts: Sequence[Part],
        drops: Sequence[str],
        db: sqlite3.Connection,
    ) -> None:
        """Inside a transaction: a generation, the parts it adds and the paths it drops."""
        values = [getattr(record, f.name) for f in fields(Generation)]
        db.execute("INSERT INTO graph_generations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        for part in parts:
            db.execute(
                "INSERT OR REPLACE INTO graph_parts VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (record.partner, record.generation, part.kind, part.path, part.first, part.count),
            )
        for path in drops:
            db.execute(
                "UPDATE graph_parts SET dropped = ? WHERE path = ? AND dropped IS NULL",
                (record.generation, path),
            )

    def add(self, record: Generation, parts: Sequence[Part], drops: Sequence[str]) -> None:
        with self.database.transaction() as db:
            self.record(record, parts, drops, db)

    @staticmethod
    def mark_committed(db: sqlite3.Connection, partner: str, generation: int) -> None:
        db.execute(
            "UPDATE graph_generations SET status = ?, created = ? WHERE partner = ?"
            " AND generation = ?",
            (COMMITTED, time.time(), partner, generation),
        )

    def discard(self, partner: str, generation: int) -> list[str]:
        """Forget a pending generation; returns the paths of the parts it had added."""
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT path FROM graph_parts WHERE partner = ? AND generation = ?",
                (partner, generation),
            ).fetchall()
            db.execute(
                "DELETE FROM graph_parts WHERE partner = ? AND generation = ?",
                (partner, generation),
            )
            db.execute(
                "UPDATE graph_parts SET dropped = NULL WHERE partner = ? AND dropped = ?",
                (partner, generation),
            )
            db.execute(
                "DELETE FROM graph_generations WHERE partner = ? AND generation = ? AND status = ?",
                (partner, generation, PENDING),
            )
        return [row["path"] for row in rows]

    def obsolete(self, partner: str, generation: int) -> list[str]:
        """Paths of parts a committed generation up to `generation` dropped (deletable),
        and forget them."""
        with self.database.transaction() as db:
            rows = db.execute(
                "SELECT path FROM graph_parts WHERE partner = ? AND dropped IS NOT NULL"
                " AND dropped <= ?",
                (partner, generation),
            ).fetchall()
            db.execute(
                "DELETE FROM graph_parts WHERE partner = ? AND dropped IS NOT NULL"
                " AND dropped <= ?",
                (partner, generation),
            )
        return [row["path"] for row in rows]

    def known_paths(self) -> set[str]:
        return {row["path"] for row in self.database.rows("SELECT path FROM graph_parts")}

    def counts(self, partner: str) -> dict[str, Any]:
        """Per cause, how many generations, and the events they made."""
        out: dict[str, Any] = {}
        for record in self.history(partner):
            bucket = out.setdefault(record.cause, {"generations": 0})
            bucket["generations"] += 1
            for name in ("merged", "split", "retired"):
                bucket[name] = bucket.get(name, 0) + int(record.tally.get(name, 0))
        return out
