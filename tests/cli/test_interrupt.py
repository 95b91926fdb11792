"""Ctrl-C at any moment of a command: "interrupted", status 130, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest

from tests.cli.support import BIN, clean_env

ROWS = 2_000_000  # several seconds of `hash` here, so every delay lands mid-run


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "people.csv"
    emails = pl.int_range(ROWS, eager=True).cast(pl.String)
    frame = pl.DataFrame({"email": "user" + emails + "@example.com", "phone": "+14155550100"})
    frame.write_csv(path)
    return path


@pytest.mark.parametrize("delay", [0.1, 0.6, 1.5])  # in the imports, at the start, mid-file
def test_ctrl_c_is_interrupted_130_and_leaves_nothing(
    tmp_path: Path, big: Path, delay: float
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    child = subprocess.Popen(
        [str(BIN / "resolver"), "hash", str(big), "-o", "out.csv"],
        cwd=tmp_path,
        env={**clean_env(), "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as a terminal's Ctrl-C finds it, even when this test runs where SIGINT is ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err.decode()[-2000:]
    assert err.decode() == "interrupted\n"  # no traceback, no "Exception ignored"
    assert os.listdir(temp) == []
    assert sorted(os.listdir(tmp_path)) == ["tmp"]  # no output, no half-written temp file
