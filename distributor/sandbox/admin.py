"""The /_sandbox/ control space: not part of TikTok's API. Tests and the demo use it to
mint auth codes, revoke tokens, inject faults, read audience members and the request log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from distributor.sandbox.state import ROLES

if TYPE_CHECKING:
    from distributor.sandbox.state import Sandbox

Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = orjson.loads(raw) if raw else {}
    return data if isinstance(data, dict) else {}


def describe(box: Sandbox, base_url: str) -> dict[str, Any]:
    """What `distributor sandbox` prints: URLs, app credentials, seeded advertisers."""
    state = box.state
    return {
        "base_url": f"{base_url}/open_api/v1.3/",
        "control_url": f"{base_url}/_sandbox/",
        "app_id": state.app_id,
        "app_secret": state.app_secret,
        "advertisers": [
            {"advertiser_id": a, "name": name, "tokens": state.seeded_tokens(a)}
            for a, name in state.advertisers.items()
        ],
        "user_base": {"size": box.users.size, "seed": state.seed},
    }


def _box(request: Request) -> Sandbox:
    box: Sandbox = request.app.state.box
    return box


async def faults(request: Request) -> Response:
    box = _box(request)
    try:
        box.faults.update(await _body(request))
    except ValueError as exc:
        return _json({"error": str(exc)}, 400)
    return _json(vars(box.faults))


async def limits(request: Request) -> Response:
    box = _box(request)
    data = await _body(request)
    box.limiter.per_second = int(data.get("requests_per_second", box.limiter.per_second))
    box.limiter.per_minute = int(data.get("requests_per_minute", box.limiter.per_minute))
    return _json(
        {
            "requests_per_second": box.limiter.per_second,
            "requests_per_minute": box.limiter.per_minute,
        }
    )


async def auth_code(request: Request) -> Response:
    box = _box(request)
    data = await _body(request)
    advertisers = [str(a) for a in data.get("advertiser_ids", [])]
    role = str(data.get("role", "ADMIN")).upper()
    if (
        role not in ROLES
        or not advertisers
        or any(a not in box.state.advertisers for a in advertisers)
    ):
        return _json(
            {"error": "advertiser_ids must be known and role one of " + ", ".join(ROLES)}, 400
        )
    return _json({"auth_code": box.state.mint_auth_code(advertisers, role)})


async def revoke(request: Request) -> Response:
    box = _box(request)
    data = await _body(request)
    entry = box.state.tokens.get(str(data.get("access_token", "")))
    if entry is None:
        return _json({"error": "unknown token"}, 404)
    entry.revoked = True
    box.state.dirty = True
    return _json({"revoked": True})


async def members(request: Request) -> Response:
    box = _box(request)
    audience = box.state.audiences.get(request.path_params["audience_id"])
    if audience is None:
        return _json({"error": "unknown audience"}, 404)
    return _json({t: sorted(ids) for t, ids in audience.members.items() if ids})


async def audiences(request: Request) -> Response:
    box = _box(request)
    advertiser = request.query_params.get("advertiser_id")
    return _json(
        [
            {
                "audience_id": a.audience_id,
                "advertiser_id": a.advertiser_id,
                "name": a.name,
                "members": {t: len(i) for t, i in a.members.items()},
                "matched": box.users.matched(a),
            }
            for a in box.state.audiences.values()
            if advertiser is None or a.advertiser_id == advertiser
        ]
    )


async def requests(request: Request) -> Response:
    box = _box(request)
    since = float(request.query_params.get("since", "0"))
    return _json([e for e in box.log if e["time"] >= since])


async def reset_log(request: Request) -> Response:
    box = _box(request)
    box.log.clear()
    return _json({"cleared": True})


async def info(request: Request) -> Response:
    box = _box(request)
    return _json(describe(box, str(request.base_url).rstrip("/")))


ADMIN_ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/_sandbox/faults", faults, ["POST"]),
    ("/_sandbox/limits", limits, ["POST"]),
    ("/_sandbox/auth_code", auth_code, ["POST"]),
    ("/_sandbox/revoke", revoke, ["POST"]),
    ("/_sandbox/audiences/{audience_id}/members", members, ["GET"]),
    ("/_sandbox/audiences", audiences, ["GET"]),
    ("/_sandbox/requests", requests, ["GET"]),
    ("/_sandbox/reset_log", reset_log, ["POST"]),
    ("/_sandbox/info", info, ["GET"]),
]
