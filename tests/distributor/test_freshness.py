"""Freshness (issue 12): from each commit to the first run that caught up with it."""

from __future__ import annotations

from distributor.freshness import measure, percentile


def test_each_commit_is_timed_to_the_first_run_that_caught_up_with_it() -> None:
    commits = [(1, 100.0), (2, 200.0), (3, 210.0), (4, 400.0)]
    runs = [(1, 103.0), (3, 215.0)]  # generation 2 and 3 went together
    fresh = measure(commits, runs, created=50.0, now=500.0)
    assert fresh.samples == 3
    assert fresh.p50 == 5.0  # samples 3, 15 and 5
    assert fresh.p95 == 15.0
    assert fresh.behind == 1  # generation 4 waits
    assert fresh.lag == 100.0


def test_commits_before_the_distribution_and_acks_outside_the_window_are_not_samples() -> None:
    commits = [(1, 10.0), (2, 100.0), (3, 90_000.0)]
    runs = [(2, 110.0), (3, 90_002.0)]
    fresh = measure(commits, runs, created=50.0, now=90_010.0, window=86_400.0)
    assert fresh.samples == 1  # generation 1 predates it; generation 2's ack is too old
    assert fresh.p50 == fresh.p95 == 2.0
    assert fresh.lag == 0.0
    assert fresh.behind == 0


def test_no_samples_and_percentiles() -> None:
    assert measure([], [], created=0.0, now=1.0).p50 is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 95) == 95.0
