"""Start the emulator as a real subprocess for tests and the demo."""

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


class Sandbox:
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

    @property
    def advertisers(self) -> list[dict[str, Any]]:
        return list(self.info["advertisers"])

    def advertiser(self, n: int = 0) -> str:
        return str(self.advertisers[n]["advertiser_id"])

    def token(self, role: str = "admin", n: int = 0) -> str:
        return str(self.advertisers[n]["tokens"][role])

    def faults(self, **values: float | list[str]) -> dict[str, Any]:
        return dict(self.control.post("faults", json=values).json())

    def limits(self, per_second: int, per_minute: int) -> None:
        self.control.post(
            "limits", json={"requests_per_second": per_second, "requests_per_minute": per_minute}
        )

    def auth_code(self, advertiser_ids: list[str], role: str = "ADMIN") -> str:
        response = self.control.post(
            "auth_code", json={"advertiser_ids": advertiser_ids, "role": role}
        )
        return str(response.json()["auth_code"])

    def revoke(self, token: str) -> None:
        self.control.post("revoke", json={"access_token": token})

    def members(self, audience_id: str) -> dict[str, set[str]]:
        data = self.control.get(f"audiences/{audience_id}/members").json()
        return {t: set(ids) for t, ids in data.items()}

    def audiences(self, advertiser_id: str | None = None) -> list[dict[str, Any]]:
        params = {"advertiser_id": advertiser_id} if advertiser_id else {}
        return list(self.control.get("audiences", params=params).json())

    def requests(self) -> list[dict[str, Any]]:
        return list(self.control.get("requests").json())

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

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_sandbox(*args: str, state: Path | None = None, **env: str) -> Sandbox:
    extra = ["--state", str(state)] if state else []
    return Sandbox(*args, *extra, env=env or None)
