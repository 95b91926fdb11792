"""The one backoff every distributor call uses: delays stay in their jittered band, the
platform's retry_after wins, the retry window bounds everything, and only TransientError
is retried. Delays are milliseconds so the tests stay fast."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distributor.errors import AuthError, BadRequest, DestinationError, Throttled, TransientError
from distributor.retry import Backoff, retrying

seeds = st.integers(0, 2**32 - 1)
seconds = st.floats(1e-3, 1_000.0, allow_nan=False, allow_infinity=False)


def ceiling(backoff: Backoff, attempt: int) -> float:
    """c = min(maximum, initial * 2^(n-1)), by doubling: a scalar reference."""
    c = backoff.initial
    for _ in range(attempt - 1):
        if c >= backoff.maximum:
            break
        c *= 2
    return min(c, backoff.maximum)


@given(seconds, seconds, st.integers(1, 64), seeds)
def test_delay_within_jitter_band(initial: float, maximum: float, attempt: int, seed: int) -> None:
    """Attempt n waits in [c/2, c]: full jitter's upper half, so retries neither bunch
    nor stall."""
    backoff = Backoff(initial=initial, maximum=maximum)
    c = ceiling(backoff, attempt)
    assert c / 2 <= backoff.delay(attempt, random.Random(seed)) <= c


@given(seconds, seconds, st.integers(1, 64), seeds, st.floats(0.0, 1e5))
def test_delay_honours_retry_after(
    initial: float, maximum: float, attempt: int, seed: int, retry_after: float
) -> None:
    """When the platform asks for a longer wait, it gets at least that; otherwise the
    jittered delay is unchanged (same seed, same draw)."""
    backoff = Backoff(initial=initial, maximum=maximum)
    plain = backoff.delay(attempt, random.Random(seed))
    asked = backoff.delay(attempt, random.Random(seed), retry_after)
    assert asked == max(retry_after, plain)
    assert asked >= retry_after


def test_delay_is_reproducible_from_the_seed() -> None:
    """A seeded run replays the same waits."""
    backoff = Backoff(initial=0.5, maximum=60.0)
    first, again = random.Random(7), random.Random(7)
    assert [backoff.delay(n, first) for n in range(1, 12)] == [
        backoff.delay(n, again) for n in range(1, 12)
    ]


@pytest.mark.parametrize("attempt", [1025, 5000])
def test_delay_is_capped_for_late_attempts(attempt: int) -> None:
    """Past the cap every attempt waits in [maximum/2, maximum], however many came before
    (a short maximum in a 13-hour window allows thousands of attempts)."""
    backoff = Backoff(initial=1.0, maximum=300.0)
    assert 150.0 <= backoff.delay(attempt, random.Random(1)) <= 300.0


def test_remaining_none_is_self() -> None:
    """No window opened yet: the full backoff, the same object."""
    backoff = Backoff(initial=0.1, maximum=2.0, window=60.0)
    assert backoff.remaining(None) is backoff


@given(st.floats(0.0, 200.0))
def test_remaining_shrinks_by_elapsed_time(elapsed: float) -> None:
    """A window opened `elapsed` seconds ago has that much less left, never below 0; the
    delays are untouched."""
    backoff = Backoff(initial=0.1, maximum=2.0, window=100.0)
    opened = time.time() - elapsed
    before = time.time()
    left = backoff.remaining(opened)
    after = time.time()
    assert max(0.0, 100.0 - (after - opened)) <= left.window <= max(0.0, 100.0 - (before - opened))
    assert left.window >= 0.0
    assert (left.initial, left.maximum) == (backoff.initial, backoff.maximum)


def test_remaining_of_a_long_closed_window_is_zero() -> None:
    """A window that closed long ago leaves exactly nothing, not a negative time."""
    backoff = Backoff(window=13 * 3600.0)
    assert backoff.remaining(time.time() - 30 * 3600.0).window == 0.0


class Script:
    """An awaitable call that raises the scripted errors in order, then returns `value`,
    recording when each call started."""

    def __init__(self, errors: Sequence[BaseException], value: str = "done") -> None:
        self.errors = list(errors)
        self.value = value
        self.started: list[float] = []

    async def __call__(self) -> str:
        self.started.append(time.monotonic())
        if len(self.started) <= len(self.errors):
            raise self.errors[len(self.started) - 1]
        return self.value


class Failing:
    """An awaitable call that always raises a new TransientError, keeping each one."""

    def __init__(self) -> None:
        self.raised: list[TransientError] = []

    async def __call__(self) -> str:
        self.raised.append(
            TransientError(
                f"segment/mapping/: TikTok code 40100: try {len(self.raised)}", code=40100
            )
        )
        raise self.raised[-1]


def transient(n: int, retry_after: float = 0.0) -> list[TransientError]:
    """n throttling answers."""
    return [
        TransientError("segment/mapping/: TikTok code 40100", code=40100, retry_after=retry_after)
        for _ in range(n)
    ]


TINY = Backoff(initial=0.002, maximum=0.008, window=60.0)


def test_retrying_returns_the_value_after_transient_failures() -> None:
    """Throttling is waited out: the caller sees only the eventual answer."""
    call = Script(transient(3), value="audience 888888888")
    assert asyncio.run(retrying(call, TINY, random.Random(3))) == "audience 888888888"
    assert len(call.started) == 4


def test_retrying_first_success_calls_once() -> None:
    """A call that succeeds is not repeated."""
    call = Script([])
    assert asyncio.run(retrying(call, TINY, random.Random(3))) == "done"
    assert len(call.started) == 1


def test_retrying_waits_the_backoff_between_attempts() -> None:
    """Each gap between calls is at least the delay the backoff draws for that attempt
    (an identically seeded twin replays the draws)."""
    call = Script(transient(4))
    asyncio.run(retrying(call, TINY, random.Random(11)))
    twin = random.Random(11)
    expected = [TINY.delay(n, twin) for n in range(1, 5)]
    gaps = [b - a for a, b in zip(call.started, call.started[1:], strict=False)]
    assert len(gaps) == len(expected)
    for gap, delay in zip(gaps, expected, strict=True):
        assert gap >= delay - 1e-6


def test_retrying_honours_retry_after() -> None:
    """The platform's retry_after outranks a shorter backoff."""
    call = Script(transient(1, retry_after=0.05))
    asyncio.run(retrying(call, TINY, random.Random(5)))
    assert call.started[1] - call.started[0] >= 0.05 - 1e-6


def test_retrying_stops_after_attempts_with_the_last_error() -> None:
    """`attempts` calls at most; the caller gets the last TransientError itself."""
    errors = transient(5)
    call = Script(errors)
    with pytest.raises(TransientError) as caught:
        asyncio.run(retrying(call, TINY, random.Random(2), attempts=3))
    assert caught.value is errors[2]
    assert len(call.started) == 3


def test_retrying_one_attempt_is_one_call() -> None:
    """attempts=1 means no retry at all."""
    errors = transient(2)
    call = Script(errors)
    with pytest.raises(TransientError) as caught:
        asyncio.run(retrying(call, TINY, random.Random(2), attempts=1))
    assert caught.value is errors[0]
    assert len(call.started) == 1


def test_retrying_stops_when_the_window_closes() -> None:
    """Nothing is retried past the window: with waits of 50-100 ms in a 200 ms window there
    are between 2 and 5 calls, and the last error is raised."""
    backoff = Backoff(initial=0.1, maximum=0.1, window=0.2)
    call = Failing()
    started = time.monotonic()
    with pytest.raises(TransientError) as caught:
        asyncio.run(retrying(call, backoff, random.Random(4)))
    assert 2 <= len(call.raised) <= 5
    assert caught.value is call.raised[-1]
    # No wait was begun past the window; the slack is for a loaded CI machine, and a loop
    # that ignored the window would never return at all.
    assert time.monotonic() - started < 0.2 + 5.0


def test_retrying_with_a_closed_window_calls_once() -> None:
    """A window already used up (Backoff.remaining gave 0) leaves one try, no wait."""
    call = Failing()
    with pytest.raises(TransientError) as caught:
        asyncio.run(retrying(call, Backoff(initial=0.001, window=0.0), random.Random(4)))
    assert caught.value is call.raised[0]
    assert len(call.raised) == 1


@pytest.mark.parametrize(
    "error",
    [
        AuthError("segment/mapping/: TikTok code 40105: token revoked", code=40105),
        BadRequest("segment/mapping/: TikTok code 40002: invalid audience ID", code=40002),
        DestinationError("segment/mapping/: TikTok code 40900: conflict", code=40900),
        ValueError("a batch holds an id that is not lowercase hex"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_retrying_does_not_retry_other_errors(error: Exception) -> None:
    """Only TransientError is retried: a revoked token or a refused request fails now."""
    call = Script([error])
    with pytest.raises(type(error)) as caught:
        asyncio.run(retrying(call, TINY, random.Random(1)))
    assert caught.value is error
    assert len(call.started) == 1


def test_retrying_stops_at_a_non_transient_error_after_retries() -> None:
    """Throttled, then the token is revoked: the AuthError ends the retries."""
    revoked = AuthError("segment/mapping/: TikTok code 40105", code=40105)
    call = Script([*transient(2), revoked])
    with pytest.raises(AuthError) as caught:
        asyncio.run(retrying(call, TINY, random.Random(1)))
    assert caught.value is revoked
    assert len(call.started) == 3


def test_retrying_survives_more_than_a_thousand_attempts() -> None:
    """With a short maximum the 13-hour window allows thousands of attempts; attempt 1025
    must wait like any capped attempt, not fail."""
    backoff = Backoff(initial=1e-6, maximum=1e-6, window=60.0)
    call = Script(transient(1100))
    assert asyncio.run(retrying(call, backoff, random.Random(9))) == "done"
    assert len(call.started) == 1101


def test_throttling_backs_off_on_the_limits_windows_not_an_outages() -> None:
    """A 40100 at defaults waited like a 5xx, up to 300 s (a burst of throttling cost
    ~48 minutes); now it waits 1 s, then doubles to at most a minute (issue 9, item 15)."""
    backoff = Backoff()  # the defaults: 1 s initial, 300 s maximum
    rng = random.Random(3)
    throttled = [backoff.delay_for(Throttled("40100"), n, rng) for n in range(1, 30)]
    outage = [backoff.delay_for(TransientError("503"), n, rng) for n in range(1, 30)]
    assert all(0.5 <= d <= 60.0 for d in throttled)
    assert throttled[0] <= 1.0
    assert max(outage) > 150.0
    # a burst of 12 throttled answers for one batch costs minutes, not a quarter hour
    assert sum(throttled[:12]) < 6 * 60
    assert sum(outage[:12]) > 10 * 60


def test_a_transient_error_says_why_in_a_word_or_two() -> None:
    from distributor.errors import Throttled, TransientError

    assert Throttled("segment/mapping/: 40100", code=40100).reason == "throttled"
    assert TransientError("segment/mapping/: HTTP 503", code=503).reason == "HTTP 503"
    assert TransientError("segment/mapping/: Internal error", code=50000).reason == "error 50000"
    assert TransientError("segment/mapping/: timed out").reason == "timed out"
    assert TransientError("x: connection failed (ConnectError)").reason == "connection failed"
