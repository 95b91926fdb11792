"""Crash safety of `resolver serve`: a real serve process killed with SIGKILL after each
step of a claim (its record, folder, sidecar, file and marker), at each state of a file,
and at random moments, then restarted, ends exactly where a clean run ends: same outputs,
same segment versions and members, no duplicates, nothing left behind in the inbox."""

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

# Small chunks (kills land mid-file); random kills must not set a file aside as poison.
CHUNK = {"TESSERA_RESOLVER__CHUNK_ROWS": "700", "TESSERA_INBOX__MAX_ATTEMPTS": "1000"}
CLAIM_STEPS = ["claim_recorded", "claim_workdir", "claim_sidecar", "claim_file", "after_claim"]
STATES = ["graph_staged", "mid_processing", "after_outputs", "mid_commit", "before_purge"]
SIDECAR_FILE = "04-members.csv"  # the claim whose every step the default run kills
CLAIMED_FILES = ["01-base.csv", SIDECAR_FILE, "06-stop.csv", "07-base-resent.csv"]


def workload(home: Home) -> None:
    """Files of one partner, each of several chunks: a base, a retry of it (gzip: a
    duplicate), a full refresh that drops members, a file whose sidecar names its segment,
    an incremental delta, an opt-out, and the base re-sent after the refresh (a refresh,
    not a duplicate); and a file of another partner. Every file has a `.done` marker."""
    first = csv_text(people(0, 2000, "sports|news"))
    drop(home, "acme", "01-base.csv", first)
    drop(home, "acme", "02-base-retry.csv.gz", gz(first))
    drop(home, "acme", "03-refresh.csv", csv_text(people(300, 2000, "sports")))
    (home.inbox / "acme" / f"{SIDECAR_FILE}.toml").write_text('segment = "members"\n')
    drop(home, "acme", SIDECAR_FILE, csv_text([{"email": p["email"]} for p in people(0, 900)]))
    (home.inbox / "acme" / "05-delta.csv.toml").write_text(
        'segment = "news"\nmode = "incremental"\n'
    )
    delta = [{"email": f"person{n}@example.com", "action": "delete"} for n in range(0, 500)]
    drop(home, "acme", "05-delta.csv", csv_text(delta))
    stop = csv_text([{"email": f"person{n}@example.com"} for n in range(400, 450)])
    drop(home, "acme", "optout/06-stop.csv", stop)
    drop(home, "acme", "07-base-resent.csv", first)
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


def crashed_then_finished(
    tmp_path: Path, golden: dict[str, Any], point: str, file: str | None
) -> None:
    home = fresh(tmp_path)
    env = {"TESSERA_TESTING": "1", "TESSERA_CRASH_AT": point, **CHUNK}
    crashed = serve(home, **env, **({"TESSERA_CRASH_FILE": file} if file else {}))
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    finish(home)
    assert snapshot(home) == golden
    assert leftovers(home) == []
    for partner in ("acme", "zenith"):
        assert [p.name for p in (home.inbox / partner).rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("point", CLAIM_STEPS)
def test_kill_at_each_step_of_a_claim_then_restart(
    point: str, tmp_path: Path, golden: dict[str, Any], clean_env: None
) -> None:
    """A claim with a sidecar and a marker, killed after each of its syscalls: the file,
    its sidecar and its marker all leave the inbox, and the result is a clean run's."""
    crashed_then_finished(tmp_path, golden, point, SIDECAR_FILE)


@pytest.mark.slow
@pytest.mark.parametrize("file", CLAIMED_FILES)
@pytest.mark.parametrize("point", CLAIM_STEPS + STATES)
def test_kill_every_file_at_every_point_then_restart(
    point: str, file: str, tmp_path: Path, golden: dict[str, Any], clean_env: None
) -> None:
    """The whole matrix: every named point (the claim's steps and the file's states) of
    every kind of file (a plain one, one with a sidecar, an opt-out, a re-sent refresh).
    The default run kills at each claim step of the sidecar file and at random moments."""
    crashed_then_finished(tmp_path, golden, point, file)


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
