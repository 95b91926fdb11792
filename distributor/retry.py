"""Retrying transient failures: one jittered exponential backoff for every call the
distributor makes (mapping batches and control calls alike), within a retry window that
TikTok's guidance sets at about 13 hours. Throttling is not an outage: TikTok counts
requests over 1 s and 60 s windows, so a throttled call backs off from `throttle_initial`
(a second) to at most `throttle_max` (a minute), where an outage backs off up to `maximum`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from config import DistributorSettings
from distributor.errors import Throttled, TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """Attempt n waits a random time in [c/2, c], c = min(maximum, initial * 2^(n-1)), or
    longer when the platform asked (`retry_after`); nothing is retried past `window`."""

    initial: float = 1.0
    maximum: float = 300.0
    window: float = 13 * 3600.0
    throttle_initial: float = 1.0
    throttle_max: float = 60.0

    @classmethod
    def from_settings(cls, settings: DistributorSettings) -> Backoff:
        return cls(
            settings.backoff_initial_seconds,
            settings.backoff_max_seconds,
            settings.retry_window_seconds,
            settings.throttle_initial_seconds,
            settings.throttle_max_seconds,
        )

    def delay(self, attempt: int, rng: random.Random, retry_after: float = 0.0) -> float:
        # The exponent is capped: past 2^64 the ceiling is `maximum` anyway, and 2.0**1024
        # would overflow.
        ceiling = min(self.maximum, self.initial * 2.0 ** min(attempt - 1, 64))
        return max(retry_after, rng.uniform(ceiling / 2, ceiling))

    def delay_for(self, error: TransientError, attempt: int, rng: random.Random) -> float:
        """The wait before attempt `attempt + 1` after `error`."""
        if isinstance(error, Throttled):
            ceiling = min(self.throttle_max, self.throttle_initial * 2.0 ** min(attempt - 1, 64))
            return max(error.retry_after, rng.uniform(ceiling / 2, ceiling))
        return self.delay(attempt, rng, error.retry_after)

    def remaining(self, opened: float | None) -> Backoff:
        """The same backoff with what is left of a window opened at `opened` (epoch s);
        never longer than a whole window, even if the clock stepped back."""
        if opened is None:
            return self
        elapsed = max(0.0, time.time() - opened)
        return replace(self, window=max(0.0, self.window - elapsed))


async def retrying(
    call: Callable[[], Awaitable[T]],
    backoff: Backoff,
    rng: random.Random,
    attempts: int | None = None,
) -> T:
    """`call()` until it does not raise TransientError, the window closes, or `attempts`
    calls were made; then the last TransientError is raised."""
    deadline = time.monotonic() + backoff.window
    attempt = 0
    while True:
        try:
            return await call()
        except TransientError as exc:
            attempt += 1
            delay = backoff.delay_for(exc, attempt, rng)
            if time.monotonic() + delay > deadline or (attempts and attempt >= attempts):
                raise
            await asyncio.sleep(delay)
