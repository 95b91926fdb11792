"""Handles on a running emulator, for tests, benchmarks and the demo: its start line
(`info`), the TikTok base URL, and the /_sandbox/ admin calls.

- `InProcessSandbox` runs the emulator's ASGI app in this process: the distributor reaches
  it through `transport()` (httpx's ASGI transport, with a dropped connection surfacing as
  the same httpx error the network gives), tests through `client()`. No port, no process,
  no network delay, so the contract tests run in milliseconds.
- `process.SandboxProcess` is the real HTTP server in a subprocess, for what needs one:
  restarts, signals, kill -9 of a distributor process, the demo.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp

from distributor.sandbox.admin import describe
from distributor.sandbox.app import build_app
from distributor.sandbox.faults import Faults
from distributor.sandbox.state import SandboxOptions, make_sandbox

LOOPBACK = "http://tiktok-sandbox.invalid"  # never resolved: requests go to the app


class SandboxHandle:
    """The admin calls, over `self.control` (an httpx client at /_sandbox/)."""

    info: dict[str, Any]
    base_url: str
    control: httpx.Client

    @property
    def advertisers(self) -> list[dict[str, Any]]:
        return list(self.info["advertisers"])

    def advertiser(self, n: int = 0) -> str:
        return str(self.advertisers[n]["advertiser_id"])

    def token(self, role: str = "admin", n: int = 0) -> str:
        return str(self.advertisers[n]["tokens"][role])

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """What the distributor's clients should use to reach it (None: the network)."""
        return None

    def client(self, token: str | None = None) -> httpx.Client:
        """A TikTok API client, with an Access-Token when given."""
        headers = {"Access-Token": token} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def faults(self, **values: float | list[str]) -> dict[str, Any]:
        answer = self.control.post("faults", json=values)
        answer.raise_for_status()  # an unknown fault's name is refused, not ignored
        return dict(answer.json())

    def limits(self, per_second: int, per_minute: int) -> dict[str, Any]:
        body = {"requests_per_second": per_second, "requests_per_minute": per_minute}
        return dict(self.control.post("limits", json=body).json())

    def auth_code(self, advertiser_ids: list[str], role: str = "ADMIN") -> str:
        body = {"advertiser_ids": advertiser_ids, "role": role}
        return str(self.control.post("auth_code", json=body).json()["auth_code"])

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

    def reset_log(self) -> None:
        self.control.post("reset_log")


class LoopbackTransport(httpx.AsyncBaseTransport):
    """httpx's ASGI transport, plus what a socket would add: an answer shorter than its
    Content-Length (the emulator's dropped connection) raises RemoteProtocolError."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        body = await response.aread()
        declared = response.headers.get("content-length")
        if declared is not None and int(declared) != len(body):
            message = "peer closed connection without sending complete message body"
            raise httpx.RemoteProtocolError(message, request=request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )


class SyncLoopbackTransport(httpx.BaseTransport):
    """The loopback for synchronous clients: each request runs the app to completion."""

    def __init__(self, app: ASGIApp) -> None:
        self._async = LoopbackTransport(app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        forward = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read()
        )
        response = asyncio.run(self._async.handle_async_request(forward))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=response.content,
            request=request,
        )


class InProcessSandbox(SandboxHandle):
    """The emulator as an ASGI app in this process (see the module docstring)."""

    def __init__(self, options: SandboxOptions | None = None, faults: Faults | None = None) -> None:
        self.box = make_sandbox(options or SandboxOptions(), faults)
        self.app = build_app(self.box)
        self.info = describe(self.box, LOOPBACK)
        self.base_url = str(self.info["base_url"])
        self.control = httpx.Client(
            base_url=self.info["control_url"], transport=SyncLoopbackTransport(self.app)
        )

    def transport(self) -> httpx.AsyncBaseTransport:
        return LoopbackTransport(self.app)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Access-Token": token} if token else {}
        return httpx.Client(
            base_url=self.base_url, headers=headers, transport=SyncLoopbackTransport(self.app)
        )

    def close(self) -> None:
        self.control.close()

    def __enter__(self) -> InProcessSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
