"""SQLite as Tessera's control plane: one way to connect, the same pragmas, one transaction.

WAL journaling lets readers run beside a writer across processes; `synchronous=FULL`
makes every commit durable before it returns, so a state written before a side effect is
there after a crash or a power cut. Transactions are `BEGIN IMMEDIATE`: a writer takes the
lock at the start, so two processes never deadlock upgrading a read to a write.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from resolver.state.atomic import private_dir

Params = Sequence[Any] | dict[str, Any]
R = TypeVar("R")


def record(cls: type[R], row: sqlite3.Row) -> R:
    return cls(**{f.name: row[f.name] for f in fields(cls)})  # type: ignore[arg-type]


class Database:
    """A connection to one SQLite file with its schema applied (idempotent DDL)."""

    def __init__(self, path: Path, schema: str) -> None:
        private_dir(path.parent)
        self.path = path
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private before SQLite opens it
        self.db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(schema)
        for suffix in ("", "-wal", "-shm"):
            sibling = path.with_name(path.name + suffix)
            if sibling.exists():
                sibling.chmod(0o600)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def rows(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return self.db.execute(sql, params).fetchall()

    def row(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        found: sqlite3.Row | None = self.db.execute(sql, params).fetchone()
        return found

    def write(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """One statement in its own transaction."""
        with self.transaction() as db:
            return db.execute(sql, params)
