"""`resolver serve`: recover what a crash left, then take inbox files until told to stop.

One serve process per home (an exclusive lock on `state/serve.lock`). Partners are taken
round-robin, one file per partner per turn, in name order within a partner, so a partner
with a big backlog or a bad file holds no one else up. SIGINT/SIGTERM end the service after
the current chunk: the file in hand stays claimed and resumes at the next start.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from types import FrameType

from resolver.control import CLAIMED, QUARANTINED, Control
from resolver.errors import ResolverError
from resolver.home import Home
from resolver.inbox import Entry, Inbox
from resolver.ingest import Abandoned, Ingest, Outcome, crash_point, expire_raw
from resolver.store import remove_temp_files

Progress = Callable[[int], None]
ProgressFactory = Callable[[str, int], AbstractContextManager[Progress | None]]


class ServiceError(ResolverError):
    """The service cannot start (another one runs, the home is not initialized...)."""


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


def control_for(home: Home) -> Control:
    return Control(home.state / "resolver.db")


@contextmanager
def _lock(home: Home) -> Iterator[None]:
    home.state.mkdir(parents=True, exist_ok=True, mode=0o700)
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
        if not home.key_file.exists() and "TESSERA_MASTER_KEY" not in os.environ:
            raise ServiceError(f"{home.root} is not initialized: run `resolver init` first")
        os.umask(0o077)  # everything the service writes is for its owner only
        self.home = home
        self.control = control_for(home)
        self.ingest = Ingest(home, self.control, home.keyring())
        self.inbox = Inbox(home, self.control)
        self._log = log or (lambda message: None)
        self.log_file = home.logs / "serve.log"

    def log(self, message: str) -> None:
        """Log lines name files, states and counts; never identifiers or keys."""
        self._log(message)
        self.home.logs.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.log_file.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {message}\n")

    # -- recovery -------------------------------------------------------------------

    def recover(self, summary: Summary, progress: ProgressFactory | None) -> None:
        """Finish every file a crash left unfinished, and remove what it left behind."""
        for root in (self.home.work, self.home.outbox, self.home.quarantine):  # store: sweep()
            summary.swept += remove_temp_files(root)
        for rec in self.control.unfinished():
            if rec.state == CLAIMED:
                self.inbox.reclaim(rec.id, rec.partner, rec.work_name)
            summary.recovered += 1
            self.log(f"resuming file {rec.id} ({rec.partner}/{rec.name}) from {rec.state}")
            summary.outcomes.append(self._run(rec.id, rec.name, rec.size, progress))
        for row in self.control.files(QUARANTINED):
            work = self.home.work / row["partner"] / str(row["id"])
            if work.exists():
                self.ingest.finish_quarantine(self.control.file(int(row["id"])))
        expired = expire_raw(
            self.home.store, float(self.home.settings.get("inbox.raw_retention_days"))
        )
        if expired:
            self.log(f"deleted {expired} sealed raw file(s) past their retention")
        live = {rec.id for rec in self.control.unfinished()}
        summary.swept += self.ingest.store.sweep(live)

    # -- serving --------------------------------------------------------------------

    def run(
        self,
        *,
        once: bool,
        interval: float | None = None,
        progress: ProgressFactory | None = None,
    ) -> Summary:
        interval = float(interval or self.home.settings.get("inbox.interval_seconds"))
        summary = Summary()
        started = time.perf_counter()
        with _lock(self.home), _signals(self):
            self.recover(summary, progress)
            while not self.ingest.stop_requested:
                took = self._turn(summary, progress)
                if once and not took and self.inbox.waiting == 0:
                    break
                if not took:
                    self._sleep(min(interval, 0.5) if once else interval)
        summary.seconds = time.perf_counter() - started
        return summary

    def _turn(self, summary: Summary, progress: ProgressFactory | None) -> bool:
        """One file per partner: returns whether anything was taken."""
        ready = self.inbox.ready()
        firsts: dict[str, tuple[Entry, str | None]] = {}
        for entry, refused in ready:
            firsts.setdefault(entry.partner, (entry, refused))
        for entry, refused in firsts.values():
            if self.ingest.stop_requested:
                break
            file_id = self.inbox.claim(entry)
            if file_id is None:
                continue
            crash_point("after_claim")
            if refused is not None:
                outcome = self.ingest.quarantine(
                    self.control.file(file_id),
                    {"code": refused, "file": entry.name, "line": None, "column": None},
                )
                summary.outcomes.append(outcome)
                self.log(f"refused {entry.partner}/{file_id}: {refused}")
                continue
            size = self.control.file(file_id).size
            summary.outcomes.append(self._run(file_id, entry.name, size, progress))
        return bool(firsts)

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
        service.ingest.stop_requested = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def summary_json(summary: Summary) -> str:
    return json.dumps(
        {
            "files": summary.counts(),
            "rows": summary.rows,
            "recovered": summary.recovered,
            "seconds": round(summary.seconds, 3),
        },
        sort_keys=True,
    )
