"""The distributor's control plane: accounts, distributions, runs and batches in SQLite
(WAL) at <home>/state/distributor.db, and what each destination holds as Parquet.

Batches move planned -> sent -> acked | failed | errored (a batch split to isolate bad
rows becomes `split` and its halves take over); each transition is committed before and
after the call it describes, so after a kill -9 every batch is either known applied
(acked), known not applied (planned, or errored with applied='no'), or unknown (sent,
failed, errored with applied='unknown').

What the destination holds is not kept row by row in SQLite: a 2M-member audience is ~6M
identifiers, which would cost tens of seconds of inserts per run. Instead each
distribution points at an immutable Parquet snapshot (person_key, id_type, id, uncertain)
and each run's plan is a Parquet file; a batch is just a row range of its plan. After a
run (or at the start of the next one, after a crash) `fold` applies the run's acked
ranges to the snapshot, marks unknown ranges `uncertain` (the planner deletes or re-sends
those), writes a new snapshot (temp, fsync, rename) and switches the pointer in the same
transaction that marks the run folded. Nothing is lost or counted twice at any moment.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from distributor.ledger_accounts import AccountTable
from distributor.plan import ID_COLS, ID_TYPE, KEY, Batch, Plan

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, platform TEXT NOT NULL,
  advertiser_id TEXT NOT NULL, token BLOB NOT NULL, role TEXT NOT NULL,
  created_at REAL NOT NULL, checked_at REAL);
CREATE TABLE IF NOT EXISTS distributions (
  id INTEGER PRIMARY KEY, segment TEXT NOT NULL, account_id INTEGER NOT NULL
  REFERENCES accounts(id), audience_id TEXT, audience_name TEXT NOT NULL,
  status TEXT NOT NULL, snapshot TEXT, created_at REAL NOT NULL,
  UNIQUE (segment, account_id));
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, rows INTEGER NOT NULL,
  metrics TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,
  parent_id INTEGER, action TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  id_schema TEXT NOT NULL, state TEXT NOT NULL, applied TEXT NOT NULL DEFAULT 'unknown',
  attempts INTEGER NOT NULL DEFAULT 0, error TEXT, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS batches_run ON batches (run_id, state);
"""
TOKEN_PURPOSE = "distributor/tokens"  # noqa: S105 (a key label, not a secret)
HELD_SCHEMA = pl.Schema(
    {
        KEY: pl.Binary(),
        "id_type": ID_TYPE,
        "id": pl.Utf8(),
        "uncertain": pl.Boolean(),
    }
)


@dataclass(frozen=True)
class Distribution:
    id: int
    segment: str
    account_id: int
    audience_id: str | None
    audience_name: str
    status: str
    snapshot: str | None


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp, compression="zstd")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Ledger(AccountTable):
    def __init__(self, state_dir: Path, token_key: bytes) -> None:
        self.root = state_dir / "distributor"
        (self.root / "held").mkdir(parents=True, exist_ok=True)
        (self.root / "runs").mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(state_dir / "distributor.db", timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._aead = AESGCM(token_key)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- distributions -------------------------------------------------------------

    def distributions(self, segment: str | None = None) -> list[Distribution]:
        sql = "SELECT id, segment, account_id, audience_id, audience_name, status, snapshot"
        sql += " FROM distributions"
        rows = (
            self.db.execute(sql + " WHERE segment = ? ORDER BY id", (segment,))
            if segment is not None
            else self.db.execute(sql + " ORDER BY id")
        )
        return [Distribution(**dict(r)) for r in rows]

    def create_distribution(self, segment: str, account_id: int, audience_name: str) -> int:
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO distributions (segment, account_id, audience_name, status,"
                " created_at) VALUES (?, ?, ?, 'creating', ?)",
                (segment, account_id, audience_name, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def set_audience(self, distribution_id: int, audience_id: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE distributions SET audience_id = ?, status = 'active' WHERE id = ?",
                (audience_id, distribution_id),
            )

    def held(self, distribution: Distribution) -> pl.DataFrame:
        """What the destination holds: person_key, id_type, id, uncertain."""
        if distribution.snapshot is None:
            return pl.DataFrame(schema=HELD_SCHEMA)
        return pl.read_parquet(self.root / "held" / distribution.snapshot).cast(HELD_SCHEMA)

    # -- runs and batches ------------------------------------------------------------

    def start_run(self, distribution_id: int, result: Plan) -> int:
        """Persist the plan (Parquet) and its batches as `planned`, then return the run id."""
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO runs (distribution_id, started_at, status, rows)"
                " VALUES (?, ?, 'preparing', ?)",
                (distribution_id, time.time(), result.rows.height),
            )
            run_id = int(cursor.lastrowid or 0)
        _write_parquet(result.rows, self.plan_path(run_id))
        now = time.time()
        with self.tx() as db:
            db.executemany(
                "INSERT INTO batches (run_id, seq, action, start, end, id_schema, state,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'planned', ?)",
                [
                    (run_id, b.index, b.action, b.start, b.end, ",".join(b.id_schema), now)
                    for b in result.batches
                ],
            )
            db.execute("UPDATE runs SET status = 'running' WHERE id = ?", (run_id,))
        return run_id

    def plan_path(self, run_id: int) -> Path:
        return self.root / "runs" / f"{run_id}.parquet"

    def batch_ids(self, run_id: int) -> dict[int, int]:
        rows = self.db.execute("SELECT seq, id FROM batches WHERE run_id = ?", (run_id,))
        return {int(r["seq"]): int(r["id"]) for r in rows}

    def mark(
        self, batch_id: int, state: str, error: str | None = None, applied: str = "unknown"
    ) -> None:
        """One committed transition; `sent` also counts an attempt."""
        bump = 1 if state == "sent" else 0
        with self.tx() as db:
            db.execute(
                "UPDATE batches SET state = ?, error = ?, applied = ?, attempts = attempts + ?,"
                " updated_at = ? WHERE id = ?",
                (state, error, applied, bump, time.time(), batch_id),
            )

    def split(self, run_id: int, batch_id: int, halves: tuple[Batch, Batch]) -> tuple[int, int]:
        with self.tx() as db:
            db.execute(
                "UPDATE batches SET state = 'split', updated_at = ? WHERE id = ?",
                (time.time(), batch_id),
            )
            ids = []
            for half in halves:
                cursor = db.execute(
                    "INSERT INTO batches (run_id, seq, parent_id, action, start, end, id_schema,"
                    " state, updated_at) VALUES (?, -1, ?, ?, ?, ?, ?, 'planned', ?)",
                    (
                        run_id,
                        batch_id,
                        half.action,
                        half.start,
                        half.end,
                        ",".join(half.id_schema),
                        time.time(),
                    ),
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids[0], ids[1]

    def finish_run(self, run_id: int, status: str, message: str | None = None) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE runs SET status = ?, message = ?, finished_at = ? WHERE id = ?",
                (status, message, time.time(), run_id),
            )

    def window_started(self, distribution_id: int) -> float | None:
        """When the current retry window opened: the start of the earliest of the runs
        just before now that did not finish cleanly (killed, or stopped on the token).
        None when the last run finished: a new run opens a new window."""
        started = None
        rows = self.db.execute(
            "SELECT started_at, finished_at, message FROM runs WHERE distribution_id = ?"
            " ORDER BY id DESC",
            (distribution_id,),
        )
        for row in rows:
            if row["finished_at"] is not None and row["message"] is None:
                break
            started = float(row["started_at"])
        return started

    def unfolded_runs(self, distribution_id: int) -> list[int]:
        rows = self.db.execute(
            "SELECT id FROM runs WHERE distribution_id = ? AND status NOT IN ('folded')"
            " ORDER BY id",
            (distribution_id,),
        )
        return [int(r["id"]) for r in rows]

    def row_states(self, run_id: int, rows: int) -> np.ndarray[Any, np.dtype[np.str_]]:
        """Per plan row: 'acked', 'unknown', 'errored' (known not applied) or 'planned'."""
        states = np.full(rows, "planned", dtype="<U8")
        leaves = self.db.execute(
            "SELECT start, end, state, applied FROM batches WHERE run_id = ? AND state != 'split'",
            (run_id,),
        )
        for leaf in leaves:
            state, applied = leaf["state"], leaf["applied"]
            if state in ("sent", "failed") or (state == "errored" and applied == "unknown"):
                state = "unknown"
            states[leaf["start"] : leaf["end"]] = state
        return states

    def fold(self, distribution: Distribution, run_id: int) -> Distribution:
        """Apply a run's outcomes to the distribution's snapshot (see the module doc)."""
        held = self.held(distribution)
        path = self.plan_path(run_id)
        if path.exists():
            rows = pl.read_parquet(path)
            states = pl.Series("state", self.row_states(run_id, rows.height))
            done = rows.with_columns(states).filter(pl.col("state").is_in(["acked", "unknown"]))
            long = done.unpivot(
                index=[KEY, "action", "state"],
                on=list(ID_COLS),
                variable_name="id_type",
                value_name="id",
            ).drop_nulls("id")
            held = apply_outcomes(held, long.with_columns(pl.col("id_type").cast(ID_TYPE)))
        name = f"{distribution.id}-{run_id}.parquet"
        _write_parquet(held, self.root / "held" / name)
        with self.tx() as db:
            db.execute(
                "UPDATE distributions SET snapshot = ? WHERE id = ?", (name, distribution.id)
            )
            db.execute("UPDATE runs SET status = 'folded' WHERE id = ?", (run_id,))
        if distribution.snapshot and distribution.snapshot != name:
            (self.root / "held" / distribution.snapshot).unlink(missing_ok=True)
        path.unlink(missing_ok=True)
        return Distribution(**{**distribution.__dict__, "snapshot": name})

    def errored_ranges(self, run_id: int) -> list[tuple[int, int]]:
        rows = self.db.execute(
            "SELECT start, end FROM batches WHERE run_id = ? AND state = 'errored'", (run_id,)
        )
        return [(int(r["start"]), int(r["end"])) for r in rows]

    def save_metrics(self, run_id: int, metrics: dict[str, Any]) -> None:
        with self.tx() as db:
            db.execute("UPDATE runs SET metrics = ? WHERE id = ?", (json.dumps(metrics), run_id))

    def last_runs(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT d.segment, a.name AS account, d.audience_id, d.audience_name, r.id AS run,"
            " r.status, r.started_at, r.finished_at, r.metrics, r.message FROM distributions d"
            " JOIN accounts a ON a.id = d.account_id LEFT JOIN runs r ON r.id ="
            " (SELECT MAX(id) FROM runs WHERE distribution_id = d.id) ORDER BY d.segment"
        )
        return [dict(r) for r in rows]


def apply_outcomes(held: pl.DataFrame, long: pl.DataFrame) -> pl.DataFrame:
    """held (person_key, id_type, id, uncertain) after a run's rows with their `state`."""
    keys = ["id_type", "id"]
    touched = long.filter(pl.col("state").is_in(["acked", "unknown"]))
    # Every touched id gets a fresh record below; acked deletes get none.
    kept = held.join(touched.select(keys), on=keys, how="anti")
    fresh = touched.filter(~((pl.col("state") == "acked") & (pl.col("action") == "delete")))
    fresh = fresh.select(KEY, *keys, (pl.col("state") == "unknown").alias("uncertain"))
    return pl.concat([kept, fresh.cast(HELD_SCHEMA)], how="vertical").cast(HELD_SCHEMA)
