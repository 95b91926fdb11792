"""The TikTok Business API v1.3 emulator as an ASGI app: the dispatch.

Every answer is the TikTok envelope {code, message, request_id, data}; errors come back as
HTTP 200 with a non-zero code, as TikTok does (injected 5xx faults excepted). Requests
under /open_api/v1.3/ go to endpoints.py through the faults and the per-token rate limits;
the /_sandbox/ space (admin.py) is the emulator's own and not part of TikTok's API.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from distributor.sandbox.admin import ADMIN_ROUTES
from distributor.sandbox.endpoints import ROUTES, UNLIMITED, Handler
from distributor.sandbox.requests import ApiError
from distributor.sandbox.state import Sandbox

API = "/open_api/v1.3/"


def envelope(
    box: Sandbox,
    code: int = 0,
    message: str = "OK",
    data: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    body = {
        "code": code,
        "message": message,
        "request_id": box.request_id(),
        "data": data if data is not None else {},
    }
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _drop(send: Send) -> None:
    """Start a response that promises more bytes than it sends: the client sees the
    connection close mid-response, like a dropped connection."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"code":', "more_body": False})


def api_app(box: Sandbox) -> ASGIApp:
    """The /open_api/v1.3/ space: faults first, then the endpoint, each request logged."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"][len(API) :].rstrip("/") + "/"  # TikTok's SDKs omit the slash
        handler = ROUTES.get((scope["method"], path))
        entry = _entry(scope["method"], path)
        faults = box.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        drop = bool(faults.drop_rate) and box.rng.random() < faults.drop_rate
        # A dropped request is lost before or after it was applied, with equal odds.
        drop_after = drop and box.rng.random() < 0.5
        if handler is None:
            response = envelope(box, 40002, f"Parameter error: unknown endpoint {path}")
            entry["code"] = 40002
        elif drop and not drop_after:
            await _dropped(box, entry, send, "dropped")  # before the request was applied
            return
        elif faults.error_rate_5xx and box.rng.random() < faults.error_rate_5xx:
            response = envelope(box, 50000, "Internal error", status=503)
            entry["code"] = 503
        else:
            response = await _handle(box, Request(scope, receive), path, handler, entry)
            if drop_after:  # applied, answer lost
                await _dropped(box, entry, send, f"dropped-after-{entry['code']}")
                return
        box.log.append(entry)
        await response(scope, receive, send)

    return app


def _entry(method: str, path: str) -> dict[str, Any]:
    """A request-log entry (`GET /_sandbox/requests`); the handler adds its fields."""
    return {"time": time.time(), "method": method, "path": path, "action": None, "count": 0}


async def _dropped(box: Sandbox, entry: dict[str, Any], send: Send, code: str) -> None:
    entry["code"] = code
    box.log.append(entry)
    await _drop(send)


async def _handle(
    box: Sandbox, request: Request, path: str, handler: Handler, entry: dict[str, Any]
) -> Response:
    try:
        token = request.headers.get("Access-Token", "")
        if path not in UNLIMITED and token:
            if box.faults.throttle_burst > 0:
                box.faults.throttle_burst -= 1
                raise ApiError(40100, "Too many requests. Please retry in some time.")
            if not box.limiter.allow(token):
                raise ApiError(40100, "Too many requests. Please retry in some time.")
        data, fields = await handler(box, request)
        entry.update(fields)
        entry["code"] = 0
        return envelope(box, data=data)
    except ApiError as exc:
        entry["code"] = exc.code
        return envelope(box, exc.code, exc.message)


def build_app(box: Sandbox) -> Starlette:
    """The whole emulator: TikTok's API under /open_api/v1.3/, admin under /_sandbox/."""
    api = api_app(box)

    class Root(Starlette):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith(API):
                await api(scope, receive, send)
                return
            await super().__call__(scope, receive, send)

    root = Root(routes=[Route(path, fn, methods=methods) for path, fn, methods in ADMIN_ROUTES])
    root.state.box = box  # the admin handlers find the emulator here
    return root
