"""Two ways of reading a stream: one chunk ahead on a thread (`prefetch`), and telling a
watcher how many bytes were read (`Counted`)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from queue import Full, Queue
from typing import Any

import polars as pl

STUCK_SECONDS = 5.0


def prefetch(chunks: Iterator[pl.DataFrame], depth: int = 1) -> Iterator[pl.DataFrame]:
    """The same chunks, read `depth` ahead on a thread: parsing the next chunk (pyarrow,
    GIL released) overlaps with work on the current one. Errors surface in order."""
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        queue.put(("chunk", chunk), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            queue.put(("error", exc))

    worker = threading.Thread(target=produce, name="tessera-prefetch", daemon=True)
    worker.start()
    ended = False
    try:
        while True:
            kind, item = queue.get()
            if kind == "end":
                ended = True
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        # Left early (an error, Ctrl-C): a worker stuck in a callback, on a lock that an
        # interrupt left held, must not hold up the exit; it is a daemon thread.
        worker.join(None if ended else STUCK_SECONDS)


class Counted(io.FileIO):
    """A file that tells how many bytes were read from it (pyarrow reads it in blocks
    on its own thread, so a watcher sees the file go by as it is parsed)."""

    def __init__(self, path: Path, on_read: Callable[[int], None]) -> None:
        super().__init__(path, "r")
        self._on_read = on_read

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self._on_read(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n = super().readinto(buffer)
        self._on_read(n)
        return n
