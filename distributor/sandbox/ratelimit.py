"""Per-token request limits of the emulator: both a per-second and a per-minute window."""

from __future__ import annotations

import time
from collections import deque


class TokenLimiter:
    """Sliding windows per access token: at most `per_second` requests in any 1 s and
    `per_minute` in any 60 s (0 turns a window off). Refused requests do not count."""

    def __init__(self, per_second: int, per_minute: int) -> None:
        self.per_second = per_second
        self.per_minute = per_minute
        self._windows: dict[str, tuple[deque[float], deque[float]]] = {}

    def allow(self, token: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        second, minute = self._windows.setdefault(token, (deque(), deque()))
        for window, span in ((second, 1.0), (minute, 60.0)):
            while window and window[0] <= now - span:
                window.popleft()
        if (self.per_second > 0 and len(second) >= self.per_second) or (
            self.per_minute > 0 and len(minute) >= self.per_minute
        ):
            return False
        second.append(now)
        minute.append(now)
        return True
