"""Durable, private writes: the one way Tessera puts a file on disk.

A file appears whole or not at all: it is written to `.NAME.tmp-PID` beside its target
(mode 0600), flushed and fsynced, renamed over the target, and the folder is fsynced so
the rename itself survives a power cut. A crash leaves at most a temp file, which
`remove_temp_files` sweeps at the next start. Folders that hold data are made 0700.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(folder: Path) -> Path:
    """Create `folder` and every missing parent for its owner only (mkdir's `parents=True`
    would give the parents default modes); returns it."""
    missing = []
    here = folder
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        path.mkdir(mode=DIR_MODE, exist_ok=True)
    return folder


def append_log(path: Path, message: str) -> None:
    """Append `message` to a private log file (0600, its folder 0700) as one line
    stamped with the UTC time. Log lines name files, states and counts; never values."""
    private_dir(path.parent)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {message}\n")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle whose content appears at `path` only if the block succeeds."""
    private_dir(path.parent)
    tmp = _temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    with atomic_file(path) as handle:
        handle.write(data)


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` with `data` (0600) only if it does not exist; False if it did. Used
    for what must never be overwritten (the master key, the first config.toml)."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(path.parent)
    return True


def remove_temp_files(root: Path) -> int:
    """Delete the `.NAME.tmp-PID` files atomic writes leave when killed; returns how many."""
    removed = 0
    if not root.exists():
        return 0
    for path in root.rglob(".*.tmp-*"):
        if path.name.rsplit(".tmp-", 1)[1].isdigit() and path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
            removed += 1
    return removed
