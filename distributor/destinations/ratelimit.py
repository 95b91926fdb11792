"""Client-side rate limiting: sliding windows over request start times."""

from __future__ import annotations

import asyncio
import time
from collections import deque

# TikTok counts requests as they arrive; a start time precedes arrival by a variable
# network delay, so windows are widened a little to keep arrivals within the limit.
MARGIN_SECONDS = 0.1


class SlidingWindows:
    """At most `per_second` starts in any 1 s and `per_minute` in any 60 s (0: off)."""

    def __init__(self, per_second: int, per_minute: int, margin: float = MARGIN_SECONDS) -> None:
        self._windows = [
            (per_second, 1.0 + margin, deque[float]()),
            (per_minute, 60.0 + margin, deque[float]()),
        ]
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                wait = 0.0
                for limit, span, starts in self._windows:
                    while starts and starts[0] <= now - span:
                        starts.popleft()
                    if limit and len(starts) >= limit:
                        wait = max(wait, starts[0] + span - now)
                if wait <= 0:
                    for _, _, starts in self._windows:
                        starts.append(now)
                    return
                await asyncio.sleep(wait)
