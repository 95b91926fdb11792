"""Runs and their batches in the ledger.

A run persists its plan (sealed Parquet, `runs/<run>.parquet`: it holds match keys) and one
`planned` row per batch;
a batch is a row range of the plan. Batches move planned -> sent -> acked | failed |
errored (a batch split to isolate bad rows becomes `split` and its halves take over);
each transition is committed before and after the call it describes, so after a kill -9
every batch is known applied (acked), known not applied (planned, or errored with
applied='no'), or unknown (sent, failed, errored with applied='unknown').
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import polars as pl

from distributor.plan import Batch, Plan
from resolver import Database, Sealer, private_dir, write_atomic


class Runs:
    """The `runs` and `batches` tables, and the plans they point at."""

    def __init__(self, database: Database, root: Path, sealer: Sealer) -> None:
        self.database = database
        self.root = private_dir(root / "runs")
        self._sealer = sealer
        self._plans: dict[int, pl.DataFrame] = {}  # plans this process started

    def plan_path(self, run_id: int) -> Path:
        return self.root / f"{run_id}.parquet"

    def start(self, distribution_id: int, plan: Plan, generation: int | None = None) -> int:
        """Persist the plan and its batches as `planned`; returns the run id.
        `generation`: the segment's graph generation its members were read at."""
        run_id = int(
            self.database.write(
                "INSERT INTO runs (distribution_id, started_at, status, rows, generation)"
                " VALUES (?, ?, 'preparing', ?, ?)",
                (distribution_id, time.time(), plan.rows.height, generation),
            ).lastrowid
            or 0
        )
        write_atomic(self.plan_path(run_id), self._sealer.seal_frame(plan.rows, f"plan/{run_id}"))
        self._plans[run_id] = plan.rows
        now = time.time()
        with self.database.transaction() as db:
            db.executemany(
                "INSERT INTO batches (run_id, seq, action, start, end, id_schema, state,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, 'planned', ?)",
                [
                    (run_id, b.index, b.action, b.start, b.end, ",".join(b.id_schema), now)
                    for b in plan.batches
                ],
            )
            db.execute("UPDATE runs SET status = 'running' WHERE id = ?", (run_id,))
        return run_id

    def plan_rows(self, run_id: int) -> pl.DataFrame | None:
        """A run's plan rows (sealed on disk: they hold match keys); None once folded."""
        path = self.plan_path(run_id)
        if not path.exists():
            return None
        if run_id in self._plans:
            return self._plans.pop(run_id)
        return self._sealer.open_frame(path.read_bytes(), f"plan/{run_id}")

    def batch_ids(self, run_id: int) -> dict[int, int]:
        rows = self.database.rows("SELECT seq, id FROM batches WHERE run_id = ?", (run_id,))
        return {int(r["seq"]): int(r["id"]) for r in rows}

    def mark(
        self,
        batch_id: int,
        state: str,
        error: str | None = None,
        applied: str = "unknown",
        code: int | None = None,
    ) -> None:
        """One committed transition; `sent` also counts an attempt. `code`: the
        platform's code (or HTTP status) of the failure."""
        self.database.write(
            "UPDATE batches SET state = ?, error = ?, applied = ?, attempts = attempts + ?,"
            " code = ?, updated_at = ? WHERE id = ?",
            (state, error, applied, 1 if state == "sent" else 0, code, time.time(), batch_id),
        )

    def split(self, run_id: int, batch_id: int, halves: tuple[Batch, Batch]) -> tuple[int, int]:
        now = time.time()
        with self.database.transaction() as db:
            db.execute(
                "UPDATE batches SET state = 'split', updated_at = ? WHERE id = ?", (now, batch_id)
            )
            ids = [
                db.execute(
                    "INSERT INTO batches (run_id, seq, parent_id, action, start, end, id_schema,"
                    " state, updated_at) VALUES (?, -1, ?, ?, ?, ?, ?, 'planned', ?)",
                    (run_id, batch_id, h.action, h.start, h.end, ",".join(h.id_schema), now),
                ).lastrowid
                or 0
                for h in halves
            ]
        return ids[0], ids[1]

    def finish(
        self, run_id: int, status: str, message: str | None = None, caught_up: bool = False
    ) -> None:
        """`caught_up`: the run left nothing pending: every change it was given is
        acknowledged by the destination or refused for good."""
        self.database.write(
            "UPDATE runs SET status = ?, message = ?, finished_at = ?, caught_up = ? WHERE id = ?",
            (status, message, time.time(), int(caught_up), run_id),
        )

    def catch_ups(self, distribution_id: int, since: float = 0.0) -> list[tuple[int, float]]:
        """(generation, finished) of the distribution's caught-up runs that finished at
        or after `since`, oldest first."""
        rows = self.database.rows(
            "SELECT generation, finished_at FROM runs WHERE distribution_id = ? AND"
            " caught_up = 1 AND generation IS NOT NULL AND finished_at >= ? ORDER BY id",
            (distribution_id, since),
        )
        return [(int(r["generation"]), float(r["finished_at"])) for r in rows]

    def synced_generation(self, distribution_id: int, before: float | None = None) -> int | None:
        """The latest generation a run of the distribution caught up with (in a run that
        finished before `before`, if given)."""
        row = self.database.row(
            "SELECT MAX(generation) AS g FROM runs WHERE distribution_id = ? AND caught_up = 1"
            " AND (? IS NULL OR finished_at < ?)",
            (distribution_id, before, before),
        )
        return None if row is None or row["g"] is None else int(row["g"])

    def window_opened(self, distribution_id: int) -> float | None:
        """When the current retry window opened: the start of the earliest of the runs
        just before now that did not finish cleanly (killed, or stopped on the token).
        None when the last run finished: a new run opens a new window."""
        started = None
        rows = self.database.rows(
            "SELECT started_at, finished_at, message FROM runs WHERE distribution_id = ?"
            " ORDER BY id DESC",
            (distribution_id,),
        )
        for row in rows:
            if row["finished_at"] is not None and row["message"] is None:
                break
            started = float(row["started_at"])
        return started

    def unfolded(self, distribution_id: int) -> list[int]:
        rows = self.database.rows(
            "SELECT id FROM runs WHERE distribution_id = ? AND folded = 0 ORDER BY id",
            (distribution_id,),
        )
        return [int(r["id"]) for r in rows]

    def leaves(self, run_id: int) -> list[tuple[int, int, str, str]]:
        """(start, end, state, applied) of the batches that were not split."""
        rows = self.database.rows(
            "SELECT start, end, state, applied FROM batches WHERE run_id = ? AND state != 'split'",
            (run_id,),
        )
        return [(r["start"], r["end"], r["state"], r["applied"]) for r in rows]

    def errored_ranges(self, run_id: int) -> list[tuple[int, int]]:
        rows = self.database.rows(
            "SELECT start, end FROM batches WHERE run_id = ? AND state = 'errored'", (run_id,)
        )
        return [(int(r["start"]), int(r["end"])) for r in rows]

    def save_metrics(self, run_id: int, metrics: dict[str, Any]) -> None:
        self.database.write(
            "UPDATE runs SET metrics = ? WHERE id = ?", (json.dumps(metrics), run_id)
        )

    def history(self, segment: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The latest runs (newest first; of one segment's distributions if given): when,
        how they ended, the counts their report saved, and failed calls by code. A run
        that saved no report (killed, or still going) counts its batches' last failures."""
        rows = self.database.rows(
            "SELECT r.id AS run, d.segment, a.name AS account, r.started_at, r.finished_at,"
            " r.status, r.rows, r.metrics, r.message FROM runs r"
            " JOIN distributions d ON d.id = r.distribution_id"
            " JOIN accounts a ON a.id = d.account_id WHERE (? IS NULL OR d.segment = ?)"
            " ORDER BY r.id DESC LIMIT ?",
            (segment, segment, limit),
        )
        found = [dict(r) for r in rows]
        for run in found:
            metrics = json.loads(run.pop("metrics") or "{}")
            codes = metrics.get("errors_by_code")
            run.update({k: metrics[k] for k in HISTORY_COUNTS if k in metrics})
            run["errors_by_code"] = codes if codes is not None else self._batch_codes(run["run"])
        return found

    def prune(self, distribution_id: int, before: float) -> int:
        """Forget the distribution's runs started before `before` (epoch seconds) that are
        folded and older than its newest clean finish (the retry window never looks past
        that one), with their batches, in one transaction. Returns how many."""
        with self.database.transaction() as db:
            gone = db.execute(
                "SELECT id FROM runs WHERE distribution_id = ? AND folded = 1 AND started_at < ?"
                " AND id < (SELECT MAX(id) FROM runs WHERE distribution_id = ?"
                " AND finished_at IS NOT NULL AND message IS NULL)",
                (distribution_id, before, distribution_id),
            ).fetchall()
            db.executemany("DELETE FROM batches WHERE run_id = ?", gone)
            db.executemany("DELETE FROM runs WHERE id = ?", gone)
        return len(gone)

    def _batch_codes(self, run_id: int) -> dict[str, int]:
        rows = self.database.rows(
            "SELECT code, COUNT(*) AS n FROM batches WHERE run_id = ?"
            " AND state IN ('failed', 'errored') GROUP BY code",
            (run_id,),
        )
        return {("unknown" if r["code"] is None else str(r["code"])): int(r["n"]) for r in rows}


# what a run's saved report adds to its history row
HISTORY_COUNTS = ("entered", "synced", "errored", "pending", "deletes", "adds", "requests")
