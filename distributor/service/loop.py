"""The sync loop: every distribution brought up to its segment's latest commit, unasked.

A distribution is due when its partner has committed a generation its runs have not caught
up with (`Runs.synced_generation`; a run catches up when it leaves nothing pending), when
it never caught up, or when its last attempt failed and its retry delay has passed. It is
not due while paused, gone from the platform, being removed, already being synced, or
within `service.flush_seconds` of its last sync's start (changes that keep coming are sent
together, at most once per flush). Runs go to a pool of `service.sync_workers` threads, at
most one per ad account at a time: an account's runs share its rate limit, so a large
refresh streams at the platform's limit while other accounts' small changes keep flowing.

Everything the loop decides from is in the stores (the ledger's runs, the catalogue's
commits), so a restart after a kill -9 carries on where it was: the next run of each
distribution folds what the killed one left and sends the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from distributor.errors import AudienceGone, AuthError, Busy, DistributorError
from distributor.ledger import REMOVING, Distribution
from distributor.metrics import RunReport
from distributor.run import RunContext, caught_up
from distributor.workspace import Workspace
from resolver import Home, ResolverError, Segments

Log = Callable[[str], None]
SKIPPED = ("gone", REMOVING)  # distribution states the loop leaves to the operator


@dataclass
class Attempt:
    """The loop's memory of one distribution (in memory only: a restart retries at once)."""

    started: float = float("-inf")  # monotonic
    failures: int = 0
    not_before: float = float("-inf")  # monotonic


@dataclass(frozen=True)
class Outcome:
    segment: str
    account: str
    status: str  # a run's status, or "failed" with the error's message
    report: RunReport | None
    message: str | None
    seconds: float


class SyncLoop:
    def __init__(
        self,
        home: Home,
        transport: httpx.AsyncBaseTransport | None = None,
        log: Log | None = None,
        halt: threading.Event | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.home = home
        self.transport = transport
        self.settings = home.settings.service
        self.halt = halt or threading.Event()
        self._log = log or (lambda line: None)
        self._on_outcome = on_outcome
        self._pool = ThreadPoolExecutor(self.settings.sync_workers, "tessera-sync")
        self._lock = threading.Lock()
        self._running: dict[int, Future[Outcome]] = {}  # distribution id -> its run
        self._accounts: set[int] = set()  # accounts with a run in flight
        self._attempts: dict[int, Attempt] = {}
        self.outcomes: list[Outcome] = []
        self._views: tuple[Workspace, Segments] | None = None  # the loop thread's

    def _opened(self) -> tuple[Workspace, Segments]:
        if self._views is None:
            self._views = Workspace(self.home, self.transport), Segments(self.home)
        return self._views

    # -- the loop --------------------------------------------------------------------

    def tick(self, now: float | None = None, *, flush: bool = True) -> int:
        """Start a run for every due distribution (within the pool and account limits);
        returns how many were started. `flush=False`: ignore the flush interval and the
        retry delays (one pass of `serve --once`)."""
        if self.halt.is_set():
            return 0
        now = time.monotonic() if now is None else now
        started = 0
        ws, catalogue = self._opened()
        names = ws.ledger.accounts.names()
        for dist in ws.ledger.distributions.all():
            if not self._due(ws, catalogue, dist, now, flush):
                continue
            with self._lock:
                if dist.account_id in self._accounts or dist.id in self._running:
                    continue
                self._accounts.add(dist.account_id)
                self._attempts.setdefault(dist.id, Attempt()).started = now
                account = names.get(dist.account_id, "?")
                self._running[dist.id] = self._pool.submit(self._sync, dist, account)
            started += 1
        return started

    def _due(
        self, ws: Workspace, catalogue: Segments, dist: Distribution, now: float, flush: bool
    ) -> bool:
        if dist.status in SKIPPED or dist.paused_at is not None or dist.id in self._running:
            return False
        attempt = self._attempts.get(dist.id, Attempt())
        if flush and now < attempt.not_before:
            return False
        if flush and now - attempt.started < self.settings.flush_seconds:
            return False
        synced = ws.ledger.runs.synced_generation(dist.id)
        try:
            current = catalogue.generation(dist.segment)
        except ResolverError:
            return False  # the segment is gone (its partner removed): nothing to bring up
        return synced is None or current > synced or attempt.failures > 0

    def _sync(self, dist: Distribution, account: str) -> Outcome:
        began = time.monotonic()
        report: RunReport | None = None
        status, message = "failed", None
        try:
            with Workspace(self.home, self.transport) as ws:
                read = ws.segment(dist.segment)
                context = RunContext(read.generation, self.halt)
                report = ws.sync(read.name, read.members, context=context)
            status, message = report.status, report.message
        except Busy as exc:
            status, message = "busy", str(exc)
        except (DistributorError, ResolverError) as exc:
            report = getattr(exc, "report", None)
            status = report.status if report is not None else "failed"
            message = str(exc)
            if isinstance(exc, AudienceGone):
                status = "audience gone"
            elif isinstance(exc, AuthError):
                status = "stopped"  # the token, as a run's status says it
        except Exception as exc:  # a bug must not end the loop; the next tick retries
            status, message = "failed", f"internal error ({type(exc).__name__})"
        outcome = Outcome(dist.segment, account, status, report, message, time.monotonic() - began)
        self._settle(dist, outcome)
        return outcome

    def _settle(self, dist: Distribution, outcome: Outcome) -> None:
        with self._lock:
            self._running.pop(dist.id, None)
            self._accounts.discard(dist.account_id)
            attempt = self._attempts.setdefault(dist.id, Attempt())
            if outcome.status in ("busy", "interrupted") or caught_up(outcome.report):
                attempt.failures = 0
                attempt.not_before = float("-inf")
            else:
                attempt.failures += 1
                delay = min(
                    self.settings.retry_max_seconds,
                    self.settings.retry_initial_seconds * 2 ** (attempt.failures - 1),
                )
                attempt.not_before = time.monotonic() + delay
            self.outcomes.append(outcome)
        self._log(_line(outcome))
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    # -- waiting and stopping --------------------------------------------------------

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def wait(self) -> None:
        """Until the runs in flight end."""
        while True:
            with self._lock:
                futures = list(self._running.values())
            if not futures:
                return
            for future in futures:
                future.result()

    def close(self) -> None:
        """Stop: runs in flight end after their calls in flight (their batches stay in
        the ledger for the next start), then the pool closes."""
        self.halt.set()
        self._pool.shutdown(wait=True)
        if self._views is not None:
            for view in self._views:
                view.close()
            self._views = None


def _line(outcome: Outcome) -> str:
    """A log line: names, counts and the status; never identifiers."""
    where = f"sync {outcome.segment} -> {outcome.account}"
    report = outcome.report
    if report is None or outcome.status in ("failed", "busy"):
        return f"{where}: {outcome.status}: {outcome.message}"
    sent = (
        f"{report.adds:,} to add, {report.deletes:,} to delete in {report.batches:,} batches"
        if report.batches
        else "no change"
    )
    tail = f"; {report.message}" if report.message else ""
    return f"{where}: {report.status}, {sent}, {outcome.seconds:.1f} s{tail}"
