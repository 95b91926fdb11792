"""One process for the whole job: the inbox and the sync loop, stopped cleanly by a signal.

    Serve(home).run()              # until SIGTERM / Ctrl-C
    Serve(home).run(once=True)     # the inbox until empty, then one sync of each due one

The resolver's service runs on a thread of its own (`signals=False`: this module owns
SIGINT and SIGTERM), the loop on the main thread, its runs on the loop's pool. A signal
sets one event: the inbox stops after its current chunk (the file in hand stays claimed
and resumes at the next start), each run after its calls in flight (its batches stay in
the ledger, and the next run folds them), and the process exits 0. One `distributor
serve` per home (`state/distributor/serve.lock`); with `inbox=False` it leaves the inbox to
a `resolver serve` of its own, the two coordinated through the stores.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from types import FrameType

import httpx

from distributor.errors import Busy
from distributor.service.loop import Log, Outcome, SyncLoop
from resolver import Home, Service, Summary, append_log, private_dir


@dataclass
class ServeSummary:
    inbox: Summary | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def sync_counts(self) -> dict[str, int]:
        runs: dict[str, int] = {}
        for outcome in self.outcomes:
            runs[outcome.status] = runs.get(outcome.status, 0) + 1
        return runs

    def to_dict(self) -> dict[str, object]:
        return {
            "inbox": None if self.inbox is None else self.inbox.to_dict(),
            "syncs": self.sync_counts(),
            "seconds": round(self.seconds, 3),
        }


@contextmanager
def serve_lock(home: Home) -> Iterator[None]:
    folder = private_dir(home.state / "distributor")
    fd = os.open(folder / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"another `distributor serve` is running on {home.root}") from None
        yield
    finally:
        os.close(fd)


class Serve:
    def __init__(
        self,
        home: Home,
        transport: httpx.AsyncBaseTransport | None = None,
        log: Log | None = None,
        *,
        inbox: bool = True,
    ) -> None:
        os.umask(0o077)  # everything the service writes is for its owner only
        self.home = home
        self.halt = threading.Event()
        self._say = log or (lambda line: None)
        self.log_file = home.logs / "distributor.log"
        self.inbox = inbox
        self.service: Service | None = None  # made on the inbox's thread (SQLite's rule)
        self._made = threading.Lock()
        self.loop = SyncLoop(home, transport, self.log, self.halt)
        self._failure: BaseException | None = None

    def log(self, message: str) -> None:
        """Log lines name segments, accounts, states and counts; never identifiers."""
        self._say(message)
        append_log(self.log_file, message)

    def stop(self) -> None:
        """Stop everything (from any thread or a signal handler)."""
        self.halt.set()
        with self._made:
            if self.service is not None:
                self.service.stop()

    def run(self, *, once: bool = False, signals: bool = True) -> ServeSummary:
        """Serve until stopped (`once`: see the module doc). `signals=False` leaves SIGINT
        and SIGTERM to the caller, which stops the service with `stop()`."""
        summary = ServeSummary()
        started = time.perf_counter()
        handled = _signals(self.stop) if signals else nullcontext()
        with serve_lock(self.home), handled:
            inbox = self._start_inbox(once, summary)
            try:
                self.log(self._banner(once))
                if once:
                    self._once(inbox)
                else:
                    self._forever()
            finally:
                self.stop()
                if inbox is not None:
                    inbox.join()
                self.loop.close()
        summary.outcomes = list(self.loop.outcomes)
        summary.seconds = time.perf_counter() - started
        if self._failure is not None:
            raise self._failure
        return summary

    def _banner(self, once: bool) -> str:
        flush = self.home.settings.service.flush_seconds
        what = "the inbox and the sync loop" if self.inbox else "the sync loop"
        how = "until the inbox is empty" if once else "until SIGTERM or Ctrl-C"
        return f"serving {what} (flush every {flush:g} s), {how}"

    def _start_inbox(self, once: bool, summary: ServeSummary) -> threading.Thread | None:
        if not self.inbox:
            return None

        def inbox() -> None:
            try:
                with self._made:
                    service = self.service = Service(self.home, log=self._say)
                    if self.halt.is_set():
                        service.stop()
                try:
                    summary.inbox = service.run(once=once, signals=False)
                finally:
                    service.close()
            except BaseException as exc:  # ends the whole service, reported by run()
                self._failure = exc
                self.halt.set()

        thread = threading.Thread(target=inbox, name="tessera-inbox", daemon=True)
        thread.start()
        return thread

    def _forever(self) -> None:
        poll = self.home.settings.service.poll_seconds
        while not self.halt.is_set():
            self.loop.tick()
            self.halt.wait(poll)

    def _once(self, inbox: threading.Thread | None) -> None:
        """The inbox to its end, then one sync of every distribution that is behind."""
        while inbox is not None and inbox.is_alive() and not self.halt.is_set():
            inbox.join(0.1)
        if not self.halt.is_set():
            self.loop.tick(flush=False)
            self.loop.wait()


@contextmanager
def _signals(stop: Callable[[], None]) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        os.write(2, f"{name}: stopping after the calls and the chunk in hand\n".encode())
        stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, prior in previous.items():
            signal.signal(sig, prior)
