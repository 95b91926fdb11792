"""The emulator as a real HTTP server in a subprocess (`distributor sandbox --port 0`),
for the demo and the tests that need a process: restarts, signals, a distributor killed
with -9 while it uploads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from distributor.sandbox.handle import SandboxHandle


class SandboxProcess(SandboxHandle):
    """A running `distributor sandbox` process; use as a context manager."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        argv = [sys.executable, "-m", "distributor", "sandbox", "--port", "0", *args]
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            err = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"the sandbox did not start: {err[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)
        self.base_url: str = self.info["base_url"]
        self.control = httpx.Client(base_url=self.info["control_url"], timeout=30)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.control.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()
        return self.process.returncode

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sandbox(*args: str, state: Path | None = None, **env: str) -> SandboxProcess:
    extra = ["--state", str(state)] if state else []
    return SandboxProcess(*args, *extra, env=env or None)
