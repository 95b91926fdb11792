"""SQLite as the control plane: durable pragmas on every connection, owner-only files,
all-or-nothing transactions, and writers in other processes that wait instead of fail."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver.state.db import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def texts(db: Database) -> list[str]:
    return [row["text"] for row in db.rows("SELECT text FROM notes ORDER BY id")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "control.db"


@pytest.fixture
def db(path: Path) -> Iterator[Database]:
    database = Database(path, SCHEMA)
    try:
        yield database
    finally:
        database.close()


def pragma(db: Database, name: str) -> object:
    row = db.row(f"PRAGMA {name}")
    assert row is not None
    return row[0]


def test_durable_pragmas_are_on(db: Database) -> None:
    """WAL lets readers run beside a writer; FULL fsyncs every commit (2 = FULL)."""
    assert pragma(db, "journal_mode") == "wal"
    assert pragma(db, "synchronous") == 2
    assert pragma(db, "foreign_keys") == 1


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    schema = (
        "CREATE TABLE IF NOT EXISTS p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE IF NOT EXISTS c (p INTEGER NOT NULL REFERENCES p (id));"
    )
    db = Database(tmp_path / "fk.db", schema)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.write("INSERT INTO c VALUES (1)")
        assert db.rows("SELECT * FROM c") == []
    finally:
        db.close()


def test_files_are_owner_only(path: Path) -> None:
    """Under a umask that masks nothing: the database, its WAL and shared-memory files,
    and the folder made for them; also after a reopen recreates the WAL files."""
    old = os.umask(0)
    try:
        for _ in range(2):
            db = Database(path, SCHEMA)
            db.write("INSERT INTO notes (text) VALUES ('x')")
            siblings = [path.with_name(path.name + s) for s in ("", "-wal", "-shm")]
            assert [mode(p) for p in siblings] == [0o600] * 3
            db.close()
    finally:
        os.umask(old)
    assert mode(path.parent) == 0o700


def test_transaction_commits_on_success(db: Database, path: Path) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes (text) VALUES ('a')")
        conn.execute("INSERT INTO notes (text) VALUES ('b')")
    db.close()
    again = Database(path, SCHEMA)
    try:
        assert texts(again) == ["a", "b"]
    finally:
        again.close()


def test_transaction_rolls_back_on_an_exception(db: Database) -> None:
    db.write("INSERT INTO notes (text) VALUES ('kept')")
    with pytest.raises(RuntimeError, match="boom"):
        insert_then_fail(db)
    assert texts(db) == ["kept"]
    db.write("INSERT INTO notes (text) VALUES ('after')")  # the connection is usable again
    assert texts(db) == ["kept", "after"]


def insert_then_fail(db: Database) -> None:
    with db.transaction() as conn:
        conn.execute("INSERT INTO notes (text) VALUES ('lost')")
        conn.execute("INSERT INTO notes (text) VALUES ('lost too')")
        raise RuntimeError("boom")


def test_write_returns_the_cursor_of_its_statement(db: Database) -> None:
    first = db.write("INSERT INTO notes (text) VALUES ('a')").lastrowid
    second = db.write("INSERT INTO notes (text) VALUES ('b')").lastrowid
    assert (first, second) == (1, 2)
    assert db.write("DELETE FROM notes").rowcount == 2


def test_two_connections_see_each_others_commits(db: Database, path: Path) -> None:
    other = Database(path, SCHEMA)
    try:
        db.write("INSERT INTO notes (text) VALUES ('from one')")
        assert texts(other) == ["from one"]
        other.write("INSERT INTO notes (text) VALUES ('from two')")
        assert texts(db) == ["from one", "from two"]
        row = db.row("SELECT count(*) AS n FROM notes")
        assert row is not None
        assert row["n"] == 2
    finally:
        other.close()


def test_uncommitted_writes_are_invisible_to_another_connection(db: Database, path: Path) -> None:
    other = Database(path, SCHEMA)
    try:
        with db.transaction() as conn:
            conn.execute("INSERT INTO notes (text) VALUES ('pending')")
            assert texts(other) == []  # WAL: the reader is not blocked, and sees the past
        assert texts(other) == ["pending"]
    finally:
        other.close()


# Holds the write lock (BEGIN IMMEDIATE) for HOLD seconds after saying it has it.
HOLD = 0.5
CHILD = """
import sys, time
from pathlib import Path
from resolver.state.db import Database

db = Database(Path(sys.argv[1]), sys.argv[2])
with db.transaction() as conn:
    conn.execute("INSERT INTO notes (text) VALUES ('child')")
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
print("released", time.time(), flush=True)
db.close()
"""


def test_a_second_writer_waits_for_the_first(db: Database, path: Path) -> None:
    """Another process holds the write lock; a write here blocks until that transaction
    commits and then succeeds, rather than failing with `database is locked`."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), SCHEMA, str(HOLD)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        started = time.monotonic()
        db.write("INSERT INTO notes (text) VALUES ('parent')")
        waited = time.monotonic() - started
        finished = time.time()
        word, released = child.stdout.readline().split()
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    # It blocked for the child's transaction, and returned once the child committed rather
    # than at the busy timeout (30 s, after which it would have raised). No upper bound in
    # seconds: a loaded CI machine can be slow to wake the waiter.
    assert word == "released"
    assert waited >= 0.5 * HOLD
    assert finished >= float(released) - 0.05
    assert texts(db) == ["child", "parent"]
