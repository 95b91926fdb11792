"""The distributor's control plane: accounts, distributions, runs and batches in SQLite
(state/distributor.db, the resolver's Database: WAL, synchronous=FULL) and sealed Parquet
beside it (state/distributor/: held snapshots and run plans, which hold match keys).

`fold` applies a run's outcomes to its distribution's held snapshot (held.py, pure): after
a run, or at the start of the next one after a crash. It writes the new snapshot, then
switches the pointer in the same transaction that marks the run folded, so nothing is lost
or counted twice at any moment.
"""

from __future__ import annotations

from pathlib import Path

from distributor.ledger.accounts import Account, Accounts
from distributor.ledger.distributions import Distribution, Distributions
from distributor.ledger.held import HELD_SCHEMA, apply_outcomes, outcomes, row_states
from distributor.ledger.locks import Locks
from distributor.ledger.runs import Runs
from resolver import Database, Sealer

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, platform TEXT NOT NULL,
  advertiser_id TEXT NOT NULL, token BLOB NOT NULL, role TEXT NOT NULL,
  created_at REAL NOT NULL, checked_at REAL);
CREATE TABLE IF NOT EXISTS distributions (
  id INTEGER PRIMARY KEY, segment TEXT NOT NULL, account_id INTEGER NOT NULL
  REFERENCES accounts(id), audience_id TEXT, audience_name TEXT NOT NULL,
  status TEXT NOT NULL, snapshot TEXT, created_at REAL NOT NULL, paused_at REAL,
  UNIQUE (segment, account_id));
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY, distribution_id INTEGER NOT NULL REFERENCES distributions(id),
  started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, rows INTEGER NOT NULL,
  metrics TEXT, message TEXT, folded INTEGER NOT NULL DEFAULT 0, generation INTEGER,
  caught_up INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL,
  parent_id INTEGER, action TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  id_schema TEXT NOT NULL, state TEXT NOT NULL, applied TEXT NOT NULL DEFAULT 'unknown',
  attempts INTEGER NOT NULL DEFAULT 0, error TEXT, code INTEGER, updated_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS batches_run ON batches (run_id, state);
"""
REMOVING = "removing"  # a distribution being forgotten (Ledger.forget)
TOKEN_PURPOSE = "distributor/tokens"  # noqa: S105 (a key label, not a secret)
DATA_PURPOSE = "distributor/data"  # seals held snapshots and plans


class Ledger:
    """The ledger's tables on one connection: `accounts`, `distributions`, `runs`."""

    def __init__(self, state_dir: Path, token_key: bytes, data_key: bytes) -> None:
        self.database = Database(state_dir / "distributor.db", SCHEMA)
        _migrate(self.database)
        root = state_dir / "distributor"
        data = Sealer(data_key)
        self.accounts = Accounts(self.database, Sealer(token_key))
        self.distributions = Distributions(self.database, root, data)
        self.runs = Runs(self.database, root, data)
        self.locks = Locks(root)

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fold(self, distribution: Distribution, run_id: int) -> Distribution:
        """Apply a run's outcomes to the distribution's snapshot (see the module doc)."""
        held = self.distributions.held(distribution)
        rows = self.runs.plan_rows(run_id)
        if rows is not None:
            states = row_states(rows.height, self.runs.leaves(run_id))
            held = apply_outcomes(held, outcomes(rows, states))
        name = f"{distribution.id}-{run_id}.parquet"
        self.distributions.write_held(name, held)
        with self.database.transaction() as db:
            folded = self.distributions.point(db, distribution, name)
            db.execute("UPDATE runs SET folded = 1 WHERE id = ?", (run_id,))
        if distribution.snapshot and distribution.snapshot != name:
            self.distributions.snapshot_path(distribution.snapshot).unlink(missing_ok=True)
        self.runs.plan_path(run_id).unlink(missing_ok=True)
        return folded

    def forget(self, distribution: Distribution) -> int:
        """Forget a distribution in three steps, each safe to crash after: mark it
        `removing` (a run refuses it from then on), delete its held snapshots and plans
        (sealed files, named by its id and its runs' ids, which no other row can have
        while its rows exist), then delete its row, runs and batches in one transaction.
        Forgetting one left `removing` does the rest. Returns how many runs it had."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE distributions SET status = ? WHERE id = ?", (REMOVING, distribution.id)
            )
        run_ids = [
            int(r["id"])
            for r in self.database.rows(
                "SELECT id FROM runs WHERE distribution_id = ?", (distribution.id,)
            )
        ]
        for name in [distribution.snapshot] + [f"{distribution.id}-{r}.parquet" for r in run_ids]:
            if name:
                self.distributions.snapshot_path(name).unlink(missing_ok=True)
        for run_id in run_ids:
            self.runs.plan_path(run_id).unlink(missing_ok=True)
        with self.database.transaction() as db:
            db.execute(
                "DELETE FROM batches WHERE run_id IN"
                " (SELECT id FROM runs WHERE distribution_id = ?)",
                (distribution.id,),
            )
            db.execute("DELETE FROM runs WHERE distribution_id = ?", (distribution.id,))
            db.execute("DELETE FROM distributions WHERE id = ?", (distribution.id,))
        return len(run_ids)

    def account_of(self, segment: str) -> str | None:
        """The ad account a segment is distributed to, if any."""
        found = self.distributions.all(segment)
        return None if not found else self.accounts.names().get(found[0].account_id)


def _migrate(database: Database) -> None:
    """Columns added since a ledger was made. Runs folded before `folded` existed had
    their status overwritten with 'folded'; their real outcome is unknown. Batches before
    `code` have none; distributions before `paused_at` are not paused; runs before
    `generation` read members of an unknown generation and count for no freshness."""
    columns = {row["name"] for row in database.rows("PRAGMA table_info(runs)")}
    if "folded" not in columns:
        with database.transaction() as db:
            db.execute("ALTER TABLE runs ADD COLUMN folded INTEGER NOT NULL DEFAULT 0")
            db.execute("UPDATE runs SET folded = 1, status = 'unknown' WHERE status = 'folded'")
    added = (
        ("batches", "code", "code INTEGER"),  # the failure's code (errors by code)
        ("distributions", "paused_at", "paused_at REAL"),  # `distributor pause`
        ("runs", "generation", "generation INTEGER"),  # the members' graph generation
        ("runs", "caught_up", "caught_up INTEGER NOT NULL DEFAULT 0"),  # freshness
    )
    for table, name, column in added:
        if name not in {row["name"] for row in database.rows(f"PRAGMA table_info({table})")}:
            with database.transaction() as db:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


__all__ = [
    "DATA_PURPOSE",
    "HELD_SCHEMA",
    "REMOVING",
    "TOKEN_PURPOSE",
    "Account",
    "Distribution",
    "Ledger",
]
