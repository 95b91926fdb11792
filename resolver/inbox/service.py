"""`resolver serve`: recover what a crash left, then take inbox files until told to stop.

One serve process per home (an exclusive lock on `state/serve.lock`). Partners are taken
round-robin, one file per partner per turn, in name order within a partner, so a partner
with a big backlog or a bad file holds no one else up. SIGINT/SIGTERM end the service after
the current chunk: the file in hand stays claimed and resumes at the next start.
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from types import FrameType

from resolver.errors import ServiceError
from resolver.home import Home
from resolver.inbox import quarantine
from resolver.inbox.crash import crash_point
from resolver.inbox.ingest import Abandoned, Ingest, Outcome, refusal_error
from resolver.inbox.recovery import recover
from resolver.inbox.watch import Entry, Inbox
from resolver.pipeline.report import Progress
from resolver.state.atomic import append_log, private_dir
from resolver.state.control import CLAIMED, Control, FileRecord

HOUSEKEEPING_SECONDS = 3600.0  # how often a running service deletes expired quarantine
ProgressFactory = Callable[[str, int], AbstractContextManager[Progress | None]]


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)
    recovered: int = 0
    swept: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
        return counts

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes)

    def to_dict(self) -> dict[str, object]:
        return {
            "files": self.counts(),
            "rows": self.rows,
            "recovered": self.recovered,
            "seconds": round(self.seconds, 3),
        }


@contextmanager
def serve_lock(home: Home) -> Iterator[None]:
    private_dir(home.state)
    fd = os.open(home.state / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ServiceError(f"another `resolver serve` is running on {home.root}") from None
        yield
    finally:
        os.close(fd)


class Service:
    def __init__(self, home: Home, log: Callable[[str], None] | None = None) -> None:
        if not home.has_key:
            raise ServiceError(f"{home.root} is not initialized: run `resolver init` first")
        os.umask(0o077)  # everything the service writes is for its owner only
        self.home = home
        self.control = Control(home.control_db)
        self.ingest = Ingest(home, self.control, home.keyring())
        self.inbox = Inbox(home, self.control)
        self._log = log or (lambda message: None)
        self.log_file = home.logs / "serve.log"
        self._warned: set[str] = set()

    def log(self, message: str) -> None:
        """Log lines name files, states and counts; never identifiers or keys."""
        self._log(message)
        append_log(self.log_file, message)

    def close(self) -> None:
        self.control.close()

    def stop(self) -> None:
        """Stop after the current chunk (from any thread); a file in hand stays claimed
        and resumes at the next start."""
        self.ingest.stop_requested = True

    # -- serving --------------------------------------------------------------------

    def run(
        self,
        *,
        once: bool,
        interval: float | None = None,
        progress: ProgressFactory | None = None,
        signals: bool = True,
    ) -> Summary:
        """Serve until stopped (`once`: until the inbox is empty). `signals=False` leaves
        SIGINT/SIGTERM to the caller, which stops the service with `stop()` (a service run
        on a thread beside other work: `distributor serve`)."""
        interval = interval or self.home.settings.inbox.interval_seconds
        summary = Summary()
        started = time.perf_counter()
        handled = _signals(self) if signals else nullcontext()
        with serve_lock(self.home), handled:
            summary.recovered, summary.swept = recover(
                self.home, self.ingest, lambda rec: self._resume(rec, summary, progress), self.log
            )
            self._started(once, interval)
            swept = time.monotonic()
            while not self.ingest.stop_requested:
                if time.monotonic() - swept > HOUSEKEEPING_SECONDS:
                    self._expire()
                    swept = time.monotonic()
                took = self._turn(summary, progress)
                if once and not took and self.inbox.waiting == 0:
                    break
                if not took:
                    self._sleep(min(interval, 0.5) if once else interval)
        summary.seconds = time.perf_counter() - started
        if self.ingest.stop_requested:
            self.log("stopped")
        return summary

    def _started(self, once: bool, interval: float) -> None:
        with Control(self.home.control_db) as control:
            names = [p.name for p in control.partners()]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        watching = f"{len(names)} partner folder(s) ({shown})" if names else "no partners yet"
        how = "until it is empty" if once else f"every {interval:g} s; Ctrl-C or SIGTERM stops"
        self.log(f"serving {self.home.inbox}: {watching}, {how}")

    def _expire(self) -> None:
        days = self.home.settings.inbox.quarantine_days
        gone = quarantine.expire(self.home, self.control, days)
        if gone:
            self.log(f"deleted {gone} quarantined file(s) past inbox.quarantine_days")

    def _turn(self, summary: Summary, progress: ProgressFactory | None) -> bool:
        """One file per partner: returns whether anything was taken."""
        ready = self.inbox.ready()
        for partner in sorted(set(self.inbox.unsafe) - self._warned):
            self.log(f"inbox/{partner} is not a real folder owned by the service: not read")
            self._warned.add(partner)
        for folder, count in self.inbox.unregistered().items():
            if count and f"stray:{folder}" not in self._warned:
                self.log(
                    f"inbox/{folder}/ is no registered partner's: its {count} file(s) are not"
                    f" read (`resolver partners add {folder}` registers it)"
                )
                self._warned.add(f"stray:{folder}")
        firsts: dict[str, tuple[Entry, str | None]] = {}
        for entry, refused in ready:
            firsts.setdefault(entry.partner, (entry, refused))
        for entry, refused in firsts.values():
            if self.ingest.stop_requested:
                break
            file_id = self.inbox.claim(entry)
            if file_id is None:
                continue
            crash_point("after_claim", entry.name)
            if refused is not None:
                outcome = self.ingest.quarantine(
                    self.control.file(file_id), refusal_error(refused, entry.name)
                )
                summary.outcomes.append(outcome)
                self.log(f"refused {entry.partner}/{file_id}: {refused}")
                continue
            size = self.control.file(file_id).size
            summary.outcomes.append(self._run(file_id, entry.name, size, progress))
        return bool(firsts)

    def _resume(self, rec: FileRecord, summary: Summary, progress: ProgressFactory | None) -> None:
        summary.outcomes.append(self._run(rec.id, rec.name, rec.size, progress))

    def _run(self, file_id: int, name: str, size: int, progress: ProgressFactory | None) -> Outcome:
        rec = self.control.file(file_id)
        self.log(f"taking file {file_id} ({rec.partner}/{name}, {size} bytes)")
        try:
            if progress is None:
                outcome = self.ingest.run(file_id)
            else:
                with progress(f"{rec.partner}/{name}", size) as advance:
                    outcome = self.ingest.run(file_id, advance)
        except Abandoned:
            self.log(f"stopping: file {file_id} stays claimed and resumes at the next start")
            return Outcome(file_id, rec.partner, name, CLAIMED)
        detail = f", {outcome.rows} rows in {outcome.seconds:.1f}s" if outcome.rows else ""
        if outcome.error:
            detail = f" ({outcome.error.get('code')})"
        self.log(f"file {file_id} ({rec.partner}/{name}): {outcome.state}{detail}")
        return outcome

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.ingest.stop_requested and time.monotonic() < deadline:
            time.sleep(min(0.1, seconds))


@contextmanager
def _signals(service: Service) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        if not service.ingest.stop_requested:  # said at once, from the handler: os.write
            name = signal.Signals(signum).name
            os.write(2, f"{name}: stopping after the current chunk; a file in hand resumes"
                        " at the next start\n".encode())  # fmt: skip
        service.ingest.stop_requested = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
