"""One run per distribution at a time: an exclusive lock per segment (`flock` on a file in
state/distributor/locks/), released by the kernel when its process ends however it ends.
The holder writes its pid and start time into the lock, so a second run can say who
holds it, and `status` can tell a run in progress from one a crash interrupted."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributor.errors import Busy
from resolver import private_dir


class Locks:
    def __init__(self, root: Path) -> None:
        self.root = private_dir(root / "locks")

    def _path(self, segment: str) -> Path:
        return self.root / f"{hashlib.sha256(segment.casefold().encode()).hexdigest()[:16]}.lock"

    @contextmanager
    def hold(self, segment: str) -> Iterator[None]:
        """Hold the segment's lock for the block; Busy when another process holds it."""
        fd = os.open(self._path(segment), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("ascii", "replace").strip() or "unknown"
                raise Busy(
                    f"segment {segment!r} is being distributed by another process ({holder});"
                    " wait for it to finish, or stop it"
                ) from None
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} since {stamp}".encode(), 0)
            yield
        finally:
            os.close(fd)

    def held(self, segment: str) -> bool:
        """Whether a process holds the segment's lock right now."""
        path = self._path(segment)
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
