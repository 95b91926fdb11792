"""What every emulated endpoint does first: read the JSON body or a JSON-array query
parameter, check the Access-Token and the advertiser role, find an owned audience; each
failure is an ApiError with TikTok's code and a message in TikTok's style."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from distributor.sandbox.state import MANAGE_ROLES, Audience, Sandbox

Result = tuple[dict[str, Any], dict[str, Any]]  # (data, request-log fields)


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def body_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ApiError(40002, "Parameter error: the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(40002, "Parameter error: the request body must be a JSON object")
    return data


def query_list(request: Request, name: str, required: bool = True) -> list[str]:
    raw = request.query_params.get(name)
    if raw is None:
        if required:
            raise ApiError(40002, f"Parameter error: {name} is required")
        return []
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ApiError(40002, f"Parameter error: {name} must be a JSON array") from None
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ApiError(40002, f"Parameter error: {name} must be a JSON array of strings")
    return [str(v) for v in value]


def token_roles(box: Sandbox, request: Request) -> dict[str, str]:
    token = request.headers.get("Access-Token", "")
    if not token:
        raise ApiError(40104, "Access token is null")
    entry = box.state.tokens.get(token)
    if entry is None or entry.revoked:
        raise ApiError(40105, "The access token is invalid or has been revoked.")
    return entry.roles


def advertiser_of(roles: dict[str, str], advertiser_id: Any, manage: bool) -> str:
    if not isinstance(advertiser_id, str | int) or not str(advertiser_id).isdigit():
        raise ApiError(40002, "Parameter error: advertiser_id must be a numeric string")
    advertiser = str(advertiser_id)
    role = roles.get(advertiser)
    if role is None or (manage and role not in MANAGE_ROLES):
        raise ApiError(
            40001,
            f"No permission to operate advertiser {advertiser}. "
            "You must be an admin or operator of this advertiser account.",
        )
    return advertiser


def owned_audience(box: Sandbox, advertiser: str, audience_id: Any, field_name: str) -> Audience:
    audience = box.state.audiences.get(str(audience_id))
    if audience is None or audience.advertiser_id != advertiser:
        raise ApiError(40002, f"Parameter error: invalid audience ID in {field_name}")
    return audience
