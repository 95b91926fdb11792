"""The HTTP client every destination uses, with the transport as a seam: tests and the
demo can pass an in-process transport (the bundled emulator as an ASGI app), production
uses the network."""

from __future__ import annotations

import httpx


def http_client(
    base_url: str,
    *,
    timeout: float = 30.0,
    connections: int = 16,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        timeout=httpx.Timeout(timeout),
        limits=limits,
        http2=False,
        headers={"Content-Type": "application/json"},
        transport=transport,
    )
