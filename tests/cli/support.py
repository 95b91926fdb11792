"""The command lines as an operator runs them: the installed console scripts, in a child
process, with a clean environment (no TESSERA_* from the test run)."""

from __future__ import annotations

import os
import subprocess
import sys
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
