"""Freshness: how long a partner's change takes to reach the destination, per distribution.

A sample is one commit of the segment's partner (a file, an erasure, a rebuild: every
change to its members is one, `resolver.Commit`) and the first run after it that caught
up (read members at that generation or later and left nothing pending: every change
acknowledged by the destination, or refused for good): the seconds from the commit to that
run's end. Commits made before the distribution existed are not samples. `lag` is how long
the oldest commit not yet caught up with has waited (0 when none waits).

Pure: the ledger gives the runs (`Runs.catch_ups`), the catalogue the commits.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

DAY = 86400.0


@dataclass(frozen=True)
class Freshness:
    p50: float | None  # seconds, over the samples in the window (None: no sample)
    p95: float | None
    samples: int
    lag: float  # seconds the oldest commit not caught up with has waited
    behind: int  # commits not caught up with

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("p50", "p95", "lag"):
            if out[name] is not None:
                out[name] = round(out[name], 3)
        return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def measure(
    commits: Sequence[tuple[int, float]],
    catch_ups: Sequence[tuple[int, float]],
    *,
    created: float,
    now: float,
    window: float = DAY,
) -> Freshness:
    """`commits`: (generation, committed) oldest first; `catch_ups`: (generation,
    finished) of the caught-up runs, oldest first; the samples are those acknowledged in
    the `window` seconds before `now`."""
    ends = [finished for _, finished in catch_ups]
    # the latest generation caught up with by each run's end (runs may catch up out of
    # order when a later one read an older generation)
    reached: list[int] = []
    for generation, _ in catch_ups:
        reached.append(max(generation, reached[-1] if reached else 0))
    samples: list[float] = []
    waiting: list[float] = []
    for generation, committed in commits:
        if committed < created:
            continue
        # the first run that reached it and ended after it (both lists never decrease)
        at = max(bisect.bisect_left(reached, generation), bisect.bisect_left(ends, committed))
        if at == len(catch_ups):
            waiting.append(committed)
        elif ends[at] >= now - window:
            samples.append(ends[at] - committed)
    lag = now - min(waiting) if waiting else 0.0
    return Freshness(
        percentile(samples, 50), percentile(samples, 95), len(samples), max(lag, 0.0),
        len(waiting),
    )  # fmt: skip
