"""Runs a plan's batches against a destination: concurrent within the destination's rate
limits (enforced by its client), every delete acknowledged before any add is sent,
transient failures retried with jittered exponential backoff until the retry window
closes, a 40002 batch split in halves to isolate its bad rows, and an auth failure
stopping the whole run at once. Each batch's state is committed before and after its call.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Protocol

from distributor.destinations.base import Destination
from distributor.errors import AuthError, BadRequest, DestinationError, TransientError
from distributor.ledger.runs import Runs
from distributor.plan import ACTIONS, Batch, Plan
from distributor.retry import Backoff


@dataclass
class ExecResult:
    acked_rows: int = 0
    errored_rows: int = 0
    requests: int = 0
    stopped: AuthError | None = None
    gone: bool = False  # the audience no longer exists on the platform
    errors: list[str] = field(default_factory=list)
    # failed calls by the platform's code (or the HTTP status, or the error's kind)
    codes: dict[str, int] = field(default_factory=dict)

    def failed(self, exc: DestinationError) -> int | None:
        """Count one failed call; returns its code for the ledger."""
        label = str(exc.code) if exc.code is not None else type(exc).__name__
        self.codes[label] = self.codes.get(label, 0) + 1
        return exc.code


class Meter(Protocol):
    """What the executor tells a watcher (a CLI draws a bar with it): counts only."""

    def settled(self, rows: int, action: str) -> None:
        """A batch of `rows` was acked or errored."""

    def split(self) -> None:
        """A refused batch became two: one batch more in all."""

    def retrying(self, reason: str, delay: float) -> None:
        """A call failed (`reason`: throttled, HTTP 503, timed out...); the next try is
        in `delay` seconds."""


# Given the plan (its rows and batches), a context in which to watch it run.
Progress = Callable[[Plan], AbstractContextManager[Meter]]


class _Quiet:
    def settled(self, rows: int, action: str) -> None:
        pass

    def split(self) -> None:
        pass

    def retrying(self, reason: str, delay: float) -> None:
        pass


@contextmanager
def _no_progress(plan: Plan) -> Iterator[Meter]:
    yield _Quiet()


class Executor:
    def __init__(
        self,
        destination: Destination,
        runs: Runs,
        backoff: Backoff,
        concurrency: int = 16,
        rng: random.Random | None = None,
    ) -> None:
        self.destination = destination
        self.runs = runs
        self.backoff = backoff
        self.concurrency = max(1, concurrency)
        self.rng = rng or random.Random()
        self.stop = asyncio.Event()

    async def run(
        self, plan: Plan, audience_id: str, run_id: int, progress: Progress | None = None
    ) -> ExecResult:
        """Send every batch of the run: deletes, then adds."""
        ids = self.runs.batch_ids(run_id)
        with (progress or _no_progress)(plan) as meter:
            job = _Job(plan, audience_id, run_id, ExecResult(), meter)
            for action in ACTIONS:  # every delete is settled before any add starts
                batches = [(b, ids[b.index]) for b in plan.batches if b.action == action]
                await self._phase(job, batches)
                if job.result.stopped is not None:
                    break
        return job.result

    async def _phase(self, job: _Job, batches: list[tuple[Batch, int]]) -> None:
        if not batches:
            return
        queue: asyncio.Queue[tuple[Batch, int]] = asyncio.Queue()
        for item in batches:
            queue.put_nowait(item)

        async def worker() -> None:
            while True:
                batch, batch_id = await queue.get()
                try:
                    if not self.stop.is_set():
                        halves = await self._send(job, batch, batch_id)
                        for half in halves:
                            queue.put_nowait(half)
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
        try:
            await queue.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _send(self, job: _Job, batch: Batch, batch_id: int) -> list[tuple[Batch, int]]:
        """Send one batch until it is acked, errored or the run stops; returns the halves
        of a batch split to isolate bad rows."""
        deadline = time.monotonic() + self.backoff.window
        columns = job.plan.batch_ids(batch)
        attempt = 0
        while not self.stop.is_set():
            self.runs.mark(batch_id, "sent")
            job.result.requests += 1
            try:
                await self.destination.mapping(
                    batch.action, job.audience_id, batch.id_schema, columns
                )
            except TransientError as exc:
                attempt, code = attempt + 1, job.result.failed(exc)
                delay = self.backoff.delay_for(exc, attempt, self.rng)
                if time.monotonic() + delay > deadline:
                    self._give_up(job, batch, batch_id, f"retry window closed: {exc}", code)
                    return []
                self.runs.mark(batch_id, "failed", str(exc), code=code)
                job.meter.retrying(exc.reason, delay)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                continue
            except AuthError as exc:
                self.runs.mark(batch_id, "failed", str(exc), code=job.result.failed(exc))
                job.result.stopped = job.result.stopped or exc
                self.stop.set()
                return []
            except BadRequest as exc:
                job.result.failed(exc)
                return await self._refused(job, batch, batch_id, exc)
            except DestinationError as exc:
                self._give_up(job, batch, batch_id, str(exc), job.result.failed(exc))
                return []
            self.runs.mark(batch_id, "acked", applied="yes")
            job.result.acked_rows += batch.size
            job.meter.settled(batch.size, batch.action)
            return []
        return []

    async def _audience_gone(self, job: _Job) -> bool:
        """At the run's first refused batch, whether the refusal is the audience itself
        having been deleted on the platform (asked once; the answer is shared)."""
        if job.gone_check is None:
            job.gone_check = asyncio.ensure_future(self._exists(job.audience_id))
        return not await asyncio.shield(job.gone_check)

    async def _exists(self, audience_id: str) -> bool:
        try:
            await self.destination.get_audience(audience_id)
        except BadRequest:
            return False
        except DestinationError:
            return True  # cannot tell: treat the batch as refused, as before
        return True

    def _give_up(
        self, job: _Job, batch: Batch, batch_id: int, error: str, code: int | None
    ) -> None:
        """Errored with an unknown outcome: the next run deletes or re-sends its ids."""
        self.runs.mark(batch_id, "errored", error, code=code)
        job.result.errored_rows += batch.size
        job.result.errors.append(error)
        job.meter.settled(batch.size, batch.action)

    async def _refused(
        self, job: _Job, batch: Batch, batch_id: int, exc: BadRequest
    ) -> list[tuple[Batch, int]]:
        """A refused batch is split in halves until the refused rows stand alone; a single
        refused row is errored, known not applied. If the audience itself is gone, the run
        stops instead."""
        if await self._audience_gone(job):
            self.runs.mark(batch_id, "errored", "the audience is gone", applied="no")
            job.result.gone = True
            self.stop.set()
            return []
        if batch.size == 1:
            self.runs.mark(batch_id, "errored", str(exc), applied="no", code=exc.code)
            job.result.errored_rows += 1
            job.result.errors.append(str(exc))
            job.meter.settled(1, batch.action)
            return []
        middle = batch.start + batch.size // 2
        halves = (
            job.plan.sub_batch(batch, batch.start, middle),
            job.plan.sub_batch(batch, middle, batch.end),
        )
        first, second = self.runs.split(job.run_id, batch_id, halves)
        job.meter.split()
        return [(halves[0], first), (halves[1], second)]


@dataclass
class _Job:
    """One run in the executor's hands."""

    plan: Plan
    audience_id: str
    run_id: int
    result: ExecResult
    meter: Meter
    gone_check: asyncio.Future[bool] | None = None
