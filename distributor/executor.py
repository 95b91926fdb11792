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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from distributor.destinations.base import (
    ID_COLUMNS,
    AuthError,
    BadRequest,
    Destination,
    DestinationError,
    TransientError,
)
from distributor.ledger import Ledger
from distributor.plan import ACTIONS, Batch, Plan

REAUTHORIZE = (
    "re-authorize the account: `distributor accounts add tiktok --advertiser-id ID --name NAME"
    " --auth-code CODE` (or --token-env VAR) for the same name, or see `distributor accounts"
    " check`; then run `distributor sync`."
)


@dataclass(frozen=True)
class ExecConfig:
    concurrency: int = 16
    retry_window_seconds: float = 13 * 3600.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0

    @classmethod
    def from_settings(cls, section: Any) -> ExecConfig:
        return cls(
            concurrency=max(1, int(section["concurrency"])),
            retry_window_seconds=float(section["retry_window_hours"]) * 3600.0,
            backoff_initial=float(section["backoff_initial_seconds"]),
            backoff_max=float(section["backoff_max_seconds"]),
        )


@dataclass
class ExecResult:
    acked_rows: int = 0
    errored_rows: int = 0
    requests: int = 0
    stopped: AuthError | None = None
    errors: list[str] = field(default_factory=list)


class _Progress:
    """A rich progress bar over rows, or nothing."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._bar: Any = None
        if enabled and total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

            self._bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._task = self._bar.add_task("rows", total=total)

    @contextmanager
    def running(self) -> Iterator[_Progress]:
        if self._bar is None:
            yield self
            return
        with self._bar:
            yield self

    def advance(self, rows: int, action: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=rows, description=action)


class Executor:
    def __init__(
        self,
        destination: Destination,
        ledger: Ledger,
        config: ExecConfig,
        rng: random.Random | None = None,
    ) -> None:
        self.destination = destination
        self.ledger = ledger
        self.config = config
        self.rng = rng or random.Random()
        self.stop = asyncio.Event()
        self.run_id = 0

    async def run(
        self, plan: Plan, audience_id: str, run_id: int, progress: bool = False
    ) -> ExecResult:
        result = ExecResult()
        self.run_id = run_id
        ids = self.ledger.batch_ids(run_id)
        bar = _Progress(plan.rows.height, progress)
        with bar.running():
            for action in ACTIONS:  # every delete is settled before any add starts
                batches = [(b, ids[b.index]) for b in plan.batches if b.action == action]
                await self._phase(plan, audience_id, batches, result, bar)
                if result.stopped is not None:
                    break
        return result

    async def _phase(
        self,
        plan: Plan,
        audience_id: str,
        batches: list[tuple[Batch, int]],
        result: ExecResult,
        bar: _Progress,
    ) -> None:
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
                        halves = await self._send(plan, audience_id, batch, batch_id, result, bar)
                        for half in halves:
                            queue.put_nowait(half)
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(self.config.concurrency)]
        try:
            await queue.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _delay(self, attempt: int, retry_after: float) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_initial * 2 ** (attempt - 1))
        return max(retry_after, self.rng.uniform(ceiling / 2, ceiling))

    async def _send(
        self,
        plan: Plan,
        audience_id: str,
        batch: Batch,
        batch_id: int,
        result: ExecResult,
        bar: _Progress,
    ) -> list[tuple[Batch, int]]:
        """Send one batch until it is acked, errored or the run stops; returns the halves
        of a batch split to isolate bad rows."""
        deadline = time.monotonic() + self.config.retry_window_seconds
        schema = [ID_COLUMNS[c] for c in batch.id_schema]
        columns = plan.batch_ids(batch)
        attempt = 0
        while not self.stop.is_set():
            self.ledger.mark(batch_id, "sent")
            result.requests += 1
            try:
                await self.destination.mapping(batch.action, audience_id, schema, columns)
            except TransientError as exc:
                attempt += 1
                delay = self._delay(attempt, exc.retry_after)
                if time.monotonic() + delay > deadline:
                    self.ledger.mark(batch_id, "errored", f"retry window closed: {exc}")
                    result.errored_rows += batch.size
                    bar.advance(batch.size, batch.action)
                    return []
                self.ledger.mark(batch_id, "failed", str(exc))
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                continue
            except AuthError as exc:
                self.ledger.mark(batch_id, "failed", str(exc))
                result.stopped = result.stopped or exc
                self.stop.set()
                return []
            except BadRequest as exc:
                if batch.size == 1:
                    self.ledger.mark(batch_id, "errored", str(exc), applied="no")
                    result.errored_rows += 1
                    result.errors.append(str(exc))
                    bar.advance(1, batch.action)
                    return []
                middle = batch.start + batch.size // 2
                halves = (
                    plan.sub_batch(batch, batch.start, middle),
                    plan.sub_batch(batch, middle, batch.end),
                )
                first, second = self.ledger.split(self.run_id, batch_id, halves)
                return [(halves[0], first), (halves[1], second)]
            except DestinationError as exc:
                self.ledger.mark(batch_id, "errored", str(exc))
                result.errored_rows += batch.size
                result.errors.append(str(exc))
                bar.advance(batch.size, batch.action)
                return []
            self.ledger.mark(batch_id, "acked", applied="yes")
            result.acked_rows += batch.size
            bar.advance(batch.size, batch.action)
            return []
        return []
