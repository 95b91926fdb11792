"""How Polars' allocator gives memory back; imported first, before anything loads Polars.

Polars allocates through jemalloc and configures it to keep pages it has freed for 0.5 s
(dirty) and 1 s (muzzy) before returning them; it appends `_RJEM_MALLOC_CONF` to its own
settings, so what is set here wins. A graph rebuild alternates Polars steps with numpy
ones, so that kept memory sits beside numpy's arrays and the peak carries both: a rebuild
of 100M edges peaked at 8.58 GiB with the pages kept and 8.19 GiB with them returned at
once, in 174 s and 163 s (benchmarks/README.md). A value already in the environment wins.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")


# glibc's mallopt parameters (malloc.h) and their defaults
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_DEFAULT_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
_NEVER = -1  # M_TRIM_THRESHOLD -1: never trim (mallopt(3))
_depth = 0
_depth_lock = threading.Lock()


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018  (glibc, not musl)
    except (OSError, AttributeError):  # pragma: no cover - another libc
        return None
    return libc


@contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Inside: numpy's large arrays come from glibc's heap and go back to it when freed,
    so the next one reuses those pages; outside (glibc's own rule), an array over 128 KiB
    is its own mapping, returned to the system when freed, and the next one faults every
    page in afresh. An incremental graph update frees and allocates arrays of millions of
    values dozens of times, and touching memory anew is slow on this VM: allocating and
    filling 2 GiB again took 0.34-2.2 s as fresh mappings and 0.1 s from the heap; a 10M-
    edge update spent 11 s of its 29 s in the system (1.4M page faults), and 6.8 s of 22.7
    s with these settings given through the environment. Afterwards the freed pages go
    back (`malloc_trim`), so the process keeps only what it holds."""
    global _depth
    libc = _glibc()
    if libc is None:
        yield
        return
    with _depth_lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _NEVER)
    try:
        yield
    finally:
        with _depth_lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.mallopt(_M_MMAP_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_THRESHOLD)
                libc.malloc_trim(0)
