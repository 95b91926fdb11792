"""Crash safety of `resolver serve`: a real serve process killed with SIGKILL at named
points and at random moments, then restarted, ends exactly where a clean run ends: same
outputs, same segment versions and members, no duplicates, nothing left behind."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from resolver.home import Home
from tests.resolver.inbox.support import (
    csv_text,
    drop,
    gz,
    leftovers,
    make_home,
    people,
    serve,
    serve_killed_after,
    snapshot,
)

CHUNK = {"TESSERA_RESOLVER__CHUNK_ROWS": "700"}
POINTS = ["after_claim", "mid_processing", "after_outputs", "mid_commit", "before_purge"]


def workload(home: Home) -> None:
    """Three files of one partner (a full refresh that drops members, a gzip duplicate of
    the first, an opt-out) and one of another: several chunks each."""
    first = csv_text(people(0, 2000, "sports|news"))
    drop(home, "acme", "01-base.csv", first)
    drop(home, "acme", "02-refresh.csv", csv_text(people(300, 2000, "sports")))
    drop(home, "acme", "03-again.csv.gz", gz(first))
    drop(
        home,
        "acme",
        "optout/04-stop.csv",
        csv_text([{"email": f"person{n}@example.com"} for n in range(400, 450)]),
    )
    drop(home, "zenith", "z.csv", csv_text(people(5000, 1500, "gamers")))


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = make_home(tmp_path_factory.mktemp("golden") / "home", "acme", "zenith")
    workload(home)
    started = time.monotonic()
    result = serve(home, **CHUNK)
    assert result.returncode == 0, result.stderr
    GOLDEN_SECONDS.append(time.monotonic() - started)
    return snapshot(home)


GOLDEN_SECONDS: list[float] = []


def kill_times(rng: random.Random, count: int) -> list[float]:
    """Moments within a clean run's duration (which includes the interpreter's start), so
    kills land before, during and after the work on whatever machine runs the test."""
    return [rng.uniform(0.3, 0.95) * GOLDEN_SECONDS[0] for _ in range(count)]


def fresh(tmp_path: Path) -> Home:
    home = make_home(tmp_path / "home", "acme", "zenith")
    workload(home)
    return home


def finish(home: Home) -> None:
    result = serve(home, **CHUNK)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_named_point_then_restart(
    point: str, tmp_path: Path, golden: dict[str, Any], clean_env: None
) -> None:
    home = fresh(tmp_path)
    crashed = serve(home, TESSERA_TESTING="1", TESSERA_CRASH_AT=point, **CHUNK)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    finish(home)
    assert snapshot(home) == golden
    assert leftovers(home) == []
    for partner in ("acme", "zenith"):
        assert list((home.inbox / partner).glob("*.csv*")) == []


def test_kill_at_random_moments_then_restart(
    tmp_path: Path, golden: dict[str, Any], clean_env: None
) -> None:
    rng = random.Random(20261129)
    home = fresh(tmp_path)
    kills = 0
    for moment in kill_times(rng, 4):
        code = serve_killed_after(home, moment, **CHUNK)
        kills += code == -signal.SIGKILL
        if code == 0:
            break
    finish(home)
    assert kills >= 1
    assert snapshot(home) == golden
    assert leftovers(home) == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_many_times_at_random_moments(
    seed: int, tmp_path: Path, golden: dict[str, Any], clean_env: None
) -> None:
    rng = random.Random(seed)
    home = fresh(tmp_path)
    for moment in kill_times(rng, 8):
        if serve_killed_after(home, moment, **CHUNK) == 0:
            break
    finish(home)
    assert snapshot(home) == golden
    assert leftovers(home) == []
