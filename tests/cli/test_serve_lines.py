"""`resolver serve` says when it starts and what it watches, and on SIGINT or SIGTERM
says at once that it is stopping (installed script, a real process)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.support import BIN, clean_env, script


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_says_what_it_watches_and_when_it_stops(home: Path, sig: signal.Signals) -> None:
    for partner in ("acme", "zenith"):
        assert (
            script("resolver", "partners", "add", partner, "--home", str(home), cwd=home).code == 0
        )
    child = subprocess.Popen(
        [str(BIN / "resolver"), "serve", "--interval", "60", "--home", str(home)],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert child.stderr is not None
    first = child.stderr.readline()
    assert first.strip() == (
        f"serving {home / 'inbox'}: 2 partner folder(s) (acme, zenith), every 60 s;"
        " Ctrl-C or SIGTERM stops"
    )
    time.sleep(0.3)
    child.send_signal(sig)
    out, rest = child.communicate(timeout=30)
    assert child.returncode == 0, rest
    lines = rest.splitlines()
    assert lines[0] == (
        f"{sig.name}: stopping after the current chunk; a file in hand resumes at the next start"
    )
    assert "stopped" in lines
    assert out.startswith("0 files (none)")
    log = (home / "logs" / "serve.log").read_text()
    assert "serving " in log
    assert log.rstrip().endswith("stopped")
