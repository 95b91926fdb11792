"""The command lines as an operator runs them: the installed console scripts, in a child
process, with a clean environment (no TESSERA_* from the test run)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def script(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `name` (resolver or distributor) with `args` in `cwd`."""
    done = subprocess.run(
        [str(BIN / name), *args],
        cwd=cwd,
        env={**clean_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def with_terminal(
    name: str, *args: str, answer: str = "", env: dict[str, str] | None = None
) -> Run:
    """Run `name` with a terminal (a pty) as stdin, stdout and stderr, typing `answer`
    and Enter when it asks; `out` is everything the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / name), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**clean_env(), **(env or {})},
        close_fds=True,
    )
    os.close(follower)
    shown = b""
    typed = False
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not typed and b"[y/N]" in shown:
                os.write(leader, answer.encode() + b"\n")
                typed = True
        elif process.poll() is not None:
            break
    os.close(leader)
    code = process.wait(timeout=30)
    return Run(code, shown.decode("utf-8", "replace").replace("\r\n", "\n"), "")


def clean_env() -> dict[str, str]:
    """This process's environment without TESSERA_* settings, 200 columns wide."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    return {**clean, "COLUMNS": "200"}


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"Run(code={self.code}, out={self.out[-800:]!r}, err={self.err[-800:]!r})"

    @property
    def one_line_error(self) -> str:
        """The error line, checked to be the only thing on stderr but click's usage."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        assert "Traceback" not in self.err, self
        errors = [line for line in lines if line.startswith("Error: ")]
        assert len(errors) == 1, self
        return errors[0]
