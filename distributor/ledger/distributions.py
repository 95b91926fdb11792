"""Distributions in the ledger: a segment sent to one ad account's audience, and a pointer
to the immutable Parquet snapshot of what that audience holds (`held/`).

What the destination holds is not kept row by row in SQLite: a 2M-member audience is ~6M
identifiers, which would cost tens of seconds of inserts per run. Each distribution points
at a snapshot instead, replaced (temp, fsync, rename) when a run is folded in. Snapshots
hold the platform's SHA-256 match keys, so they are sealed (AES-256-GCM, resolver.Sealer)
under the ledger's data key and their name, like the resolver's store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from distributor.ledger.held import HELD_SCHEMA, empty_held
from resolver import Database, Sealer, private_dir, write_atomic


@dataclass(frozen=True)
class Distribution:
    id: int
    segment: str
    account_id: int
    audience_id: str | None
    audience_name: str
    status: str
    snapshot: str | None
    created_at: float = 0.0
    paused_at: float | None = None


_COLUMNS = (
    "id, segment, account_id, audience_id, audience_name, status, snapshot, created_at, paused_at"
)


class Distributions:
    """The `distributions` table and the held snapshots."""

    def __init__(self, database: Database, root: Path, sealer: Sealer) -> None:
        self.database = database
        self.held_dir = private_dir(root / "held")
        self._sealer = sealer
        self._last: tuple[str, pl.DataFrame] | None = None  # the snapshot this process wrote

    def all(self, segment: str | None = None) -> list[Distribution]:
        where, args = ("", ()) if segment is None else (" WHERE segment = ?", (segment,))
        sql = f"SELECT {_COLUMNS} FROM distributions{where} ORDER BY id"  # noqa: S608 - ours
        return [Distribution(**dict(r)) for r in self.database.rows(sql, args)]

    def find(self, segment: str, account_id: int) -> Distribution | None:
        return next((d for d in self.all(segment) if d.account_id == account_id), None)

    def create(self, segment: str, account_id: int, audience_name: str) -> int:
        cursor = self.database.write(
            "INSERT INTO distributions (segment, account_id, audience_name, status,"
            " created_at) VALUES (?, ?, ?, 'creating', ?)",
            (segment, account_id, audience_name, time.time()),
        )
        return int(cursor.lastrowid or 0)

    def set_audience(self, distribution_id: int, audience_id: str) -> None:
        self.database.write(
            "UPDATE distributions SET audience_id = ?, status = 'active' WHERE id = ?",
            (audience_id, distribution_id),
        )

    def set_paused(self, segment: str, paused: bool) -> int:
        """Pause (or resume) the segment's distributions; returns how many there are."""
        cursor = self.database.write(
            "UPDATE distributions SET paused_at = ? WHERE segment = ?",
            (time.time() if paused else None, segment),
        )
        return int(cursor.rowcount)

    def paused(self, segment: str) -> bool:
        rows = self.database.rows(
            "SELECT 1 FROM distributions WHERE segment = ? AND paused_at IS NOT NULL", (segment,)
        )
        return bool(rows)

    def mark_gone(self, distribution_id: int) -> None:
        """The audience was found deleted on the platform (status: `gone`)."""
        self.database.write(
            "UPDATE distributions SET status = 'gone' WHERE id = ?", (distribution_id,)
        )

    def forget_audience(self, distribution: Distribution) -> Distribution:
        """The audience is gone from the platform: the next run creates a new one, which
        holds nobody yet."""
        self.database.write(
            "UPDATE distributions SET audience_id = NULL, status = 'creating', snapshot = NULL"
            " WHERE id = ?",
            (distribution.id,),
        )
        if distribution.snapshot:
            self.snapshot_path(distribution.snapshot).unlink(missing_ok=True)
        return replace(distribution, audience_id=None, status="creating", snapshot=None)

    def rename_segment(self, old: str, new: str) -> None:
        """A renamed segment keeps its distributions (audience names stay)."""
        self.database.write("UPDATE distributions SET segment = ? WHERE segment = ?", (new, old))

    def held(self, distribution: Distribution | None) -> pl.DataFrame:
        """What the destination holds: person_key, id_type, id, uncertain."""
        if distribution is None or distribution.snapshot is None:
            return empty_held()
        name = distribution.snapshot
        if self._last is not None and self._last[0] == name:
            return self._last[1]
        blob = (self.held_dir / name).read_bytes()
        return self._sealer.open_frame(blob, f"held/{name}").cast(HELD_SCHEMA)

    def write_held(self, name: str, held: pl.DataFrame) -> None:
        """A new snapshot, sealed: the ids are the platform's SHA-256 match keys."""
        write_atomic(self.held_dir / name, self._sealer.seal_frame(held, f"held/{name}"))
        self._last = (name, held)  # snapshots are immutable: read back without unsealing

    def snapshot_path(self, name: str) -> Path:
        return self.held_dir / name

    def point(self, db: Any, distribution: Distribution, snapshot: str) -> Distribution:
        """Switch the distribution to a new snapshot, inside the caller's transaction."""
        db.execute(
            "UPDATE distributions SET snapshot = ? WHERE id = ?", (snapshot, distribution.id)
        )
        return replace(distribution, snapshot=snapshot)

    def last_runs(self) -> list[dict[str, Any]]:
        """Each distribution with its account and latest run (metrics as JSON text)."""
        rows = self.database.rows(
            "SELECT d.id AS distribution, d.segment, a.name AS account, d.audience_id,"
            " d.audience_name, d.status AS audience_status, d.paused_at, r.id AS run,"
            " r.status, r.started_at, r.finished_at, r.metrics, r.message FROM distributions d"
            " JOIN accounts a ON a.id = d.account_id LEFT JOIN runs r ON r.id ="
            " (SELECT MAX(id) FROM runs WHERE distribution_id = d.id) ORDER BY d.segment"
        )
        return [dict(r) for r in rows]
