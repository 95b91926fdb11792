"""Run the emulator: bind, print one JSON line describing it, serve until SIGINT/SIGTERM,
then save the state (with --state)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import socket
import sys
from collections.abc import Iterator

import orjson
import uvicorn

from distributor.errors import RuleError
from distributor.sandbox.admin import describe
from distributor.sandbox.app import build_app
from distributor.sandbox.state import Sandbox


def serve(box: Sandbox, host: str, port: int) -> None:
    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    sys.stdout.write(orjson.dumps(describe(box, f"http://{shown}:{bound}")).decode() + "\n")
    sys.stdout.flush()
    # Each 10,000-user request allocates ~30k containers; with the default thresholds the
    # cycle collector would run several times per request over the whole (large) state.
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    config = uvicorn.Config(
        build_app(box),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        limit_concurrency=4096,
    )
    server = _Server(config)

    async def main() -> None:
        saver = asyncio.create_task(_autosave(box))
        try:
            await server.serve(sockets=[sock])
        finally:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
            box.state.save()

    asyncio.run(main())


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a RuleError saying why there is none (a port in use or
    out of range, an address this machine does not have)."""
    if not 0 <= port <= 65535:
        raise RuleError(f"port {port} is out of range: give 0 (any free port) to 65535")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RuleError(
            f"cannot listen on {host}:{port}: {reason}; give another --port (0: any free one)"
        ) from None
    return sock


class _Server(uvicorn.Server):
    """uvicorn re-raises a caught SIGINT/SIGTERM after shutting down; the emulator instead
    returns normally so it can save its state and exit with status 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def _autosave(box: Sandbox, every: float = 5.0) -> None:
    while True:
        await asyncio.sleep(every)
        if box.state.dirty:
            box.state.save()
