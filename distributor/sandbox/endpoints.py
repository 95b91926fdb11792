"""The TikTok Business API v1.3 endpoints the emulator serves. Each takes the request and
returns (data, request-log fields) or raises ApiError(code, message), which the dispatch
(app.py) wraps in TikTok's envelope.

Behaviour the public record leaves open (see shared research, tiktok_api.md) is a
documented choice:
- permission is checked before parameters, so an Analyst gets 40001 even for a bad body;
- rows of batch_data misaligned with id_schema are refused (strict), not counted;
- an unknown audience ID is a 40002 parameter error naming the field;
- over the 400-audience cap is 40002 "The number of custom audiences exceeds the upper limit";
- names longer than 128 characters are refused; names of 71-128 are kept whole unless the
  emulator runs with --truncate-names (then stored as 67 characters + "...").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from distributor.sandbox.mapping import segment_mapping
from distributor.sandbox.requests import (
    ApiError,
    Result,
    advertiser_of,
    body_json,
    owned_audience,
    query_list,
    token_roles,
)
from distributor.sandbox.state import Audience, Sandbox, now_text

MAX_AUDIENCES = 400
MAX_NAME = 128
TRUNCATE_OVER = 70
MIN_REPORTED = 1000


def cover(box: Sandbox, audience: Audience) -> int:
    matched = box.users.matched(audience)
    return matched if matched >= MIN_REPORTED else 0


def list_item(box: Sandbox, audience: Audience) -> dict[str, Any]:
    size = cover(box, audience)
    return {
        "audience_id": audience.audience_id,
        "name": audience.name,
        "cover_num": size,
        "is_valid": size >= MIN_REPORTED,
        "is_creator": True,
        "shared": False,
        "is_expiring": False,
        "calculate_type": "MULTIPLE_TYPES",
        "audience_type": "Partner Audience",
        "create_time": audience.create_time,
        "expired_time": None,
    }


async def oauth_access_token(box: Sandbox, request: Request) -> Result:
    body = await body_json(request)
    if str(body.get("app_id")) != box.state.app_id or body.get("secret") != box.state.app_secret:
        raise ApiError(40101, "Invalid app_id or secret")
    code = body.get("auth_code")
    exchanged = box.state.exchange(str(code)) if isinstance(code, str) else None
    if exchanged is None:
        raise ApiError(40110, "The auth_code is invalid or has expired")
    token, advertisers = exchanged
    return (
        {
            "access_token": token,
            "advertiser_ids": advertisers,
            "scope": ["Audience Management", "Ad Account Management"],
        },
        {},
    )


async def oauth_revoke(box: Sandbox, request: Request) -> Result:
    body = await body_json(request)
    if str(body.get("app_id")) != box.state.app_id or body.get("secret") != box.state.app_secret:
        raise ApiError(40101, "Invalid app_id or secret")
    entry = box.state.tokens.get(str(body.get("access_token", "")))
    if entry is None:
        raise ApiError(40105, "The access token is invalid or has been revoked.")
    entry.revoked = True
    box.state.dirty = True
    return {}, {}


async def oauth_advertisers(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    if (
        request.query_params.get("app_id") != box.state.app_id
        or request.query_params.get("secret") != box.state.app_secret
    ):
        raise ApiError(40101, "Invalid app_id or secret")
    items = [
        {"advertiser_id": a, "advertiser_name": box.state.advertisers.get(a, a)} for a in roles
    ]
    return {"list": items}, {}


async def advertiser_info(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    ids = query_list(request, "advertiser_ids")
    items = []
    for advertiser in ids:
        advertiser_of(roles, advertiser, manage=False)
        items.append(
            {
                "advertiser_id": advertiser,
                "name": box.state.advertisers[advertiser],
                "status": "STATUS_ENABLE",
                "role": "ROLE_ADVERTISER",
                "currency": "USD",
                "timezone": "Etc/GMT",
                "country": "US",
                "company": "Sandbox Inc.",
            }
        )
    return {"list": items}, {}


async def user_info(box: Sandbox, request: Request) -> Result:
    token_roles(box, request)
    return {
        "display_name": "Sandbox User",
        "email": "sandbox-user@example.invalid",
        "id": "7000000000000000001",
        "create_time": 1700000000,
    }, {}


async def segment_audience(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    body = await body_json(request)
    advertiser = advertiser_of(roles, body.get("advertiser_id"), manage=True)
    action = body.get("action")
    if action == "create":
        name = body.get("custom_audience_name")
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise ApiError(
                40002, f"Parameter error: custom_audience_name must be 1-{MAX_NAME} characters"
            )
        owned = sum(1 for a in box.state.audiences.values() if a.advertiser_id == advertiser)
        if owned >= MAX_AUDIENCES:
            raise ApiError(
                40002, f"The number of custom audiences exceeds the upper limit ({MAX_AUDIENCES})"
            )
        if box.truncate_names and len(name) > TRUNCATE_OVER:
            name = name[: TRUNCATE_OVER - 3] + "..."
        audience = Audience(box.state.new_audience_id(), advertiser, name, now_text())
        audience.history.append(
            {
                "opt_time": audience.create_time,
                "action": "create",
                "editor": "open_api",
                "msg": None,
                "action_detail": "0",
            }
        )
        box.state.audiences[audience.audience_id] = audience
        box.state.dirty = True
        return {"audience_id": audience.audience_id}, {"audience_ids": [audience.audience_id]}
    if action == "delete":
        target = body.get("delete_audience_id", body.get("audience_id"))
        audience = owned_audience(box, advertiser, target, "delete_audience_id")
        del box.state.audiences[audience.audience_id]
        box.state.dirty = True
        return {"audience_id": audience.audience_id}, {"audience_ids": [audience.audience_id]}
    raise ApiError(40002, "Parameter error: action must be create or delete")


def _paging(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page_size", "10"))
    except ValueError:
        raise ApiError(40002, "Parameter error: page and page_size must be integers") from None
    if page < 1 or not 1 <= size <= 100:
        raise ApiError(40002, "Parameter error: page >= 1 and page_size 1-100")
    return page, size


async def audience_list(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    advertiser = advertiser_of(roles, request.query_params.get("advertiser_id"), manage=False)
    wanted = set(query_list(request, "custom_audience_ids", required=False))
    page, size = _paging(request)
    owned = [
        a
        for a in box.state.audiences.values()
        if a.advertiser_id == advertiser and (not wanted or a.audience_id in wanted)
    ]
    owned.sort(key=lambda a: (a.create_time, a.audience_id))
    chunk = owned[(page - 1) * size : page * size]
    total_page = max(1, -(-len(owned) // size))
    return (
        {
            "list": [list_item(box, a) for a in chunk],
            "page_info": {
                "page": page,
                "page_size": size,
                "total_number": len(owned),
                "total_page": total_page,
            },
        },
        {},
    )


async def audience_get(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    advertiser = advertiser_of(roles, request.query_params.get("advertiser_id"), manage=False)
    ids = query_list(request, "custom_audience_ids")
    if not 1 <= len(ids) <= 100:
        raise ApiError(40002, "Parameter error: custom_audience_ids must hold 1-100 IDs")
    items = []
    for audience_id in ids:
        audience = owned_audience(box, advertiser, audience_id, "custom_audience_ids")
        details = {
            **list_item(box, audience),
            "type": "Partner",
            "audience_sub_type": "NORMAL",
            "rule": '{"inclusions": null, "exclusions": null}',
            "msg": None,
            "error_msg": None,
            "is_auto_refresh": False,
        }
        items.append({"audience_details": details, "audience_history": audience.history})
    return {"list": items}, {}


async def audience_delete(box: Sandbox, request: Request) -> Result:
    roles = token_roles(box, request)
    body = await body_json(request)
    advertiser = advertiser_of(roles, body.get("advertiser_id"), manage=True)
    ids = body.get("custom_audience_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise ApiError(40002, "Parameter error: custom_audience_ids must hold 1-100 IDs")
    audiences = [owned_audience(box, advertiser, a, "custom_audience_ids") for a in ids]
    for audience in audiences:
        box.state.audiences.pop(audience.audience_id, None)
    box.state.dirty = True
    return {}, {"audience_ids": [a.audience_id for a in audiences]}


Handler = Callable[[Sandbox, Request], Awaitable[Result]]

ROUTES: dict[tuple[str, str], Handler] = {
    ("POST", "oauth2/access_token/"): oauth_access_token,
    ("POST", "oauth2/revoke_token/"): oauth_revoke,
    ("GET", "oauth2/advertiser/get/"): oauth_advertisers,
    ("GET", "advertiser/info/"): advertiser_info,
    ("GET", "user/info/"): user_info,
    ("POST", "segment/audience/"): segment_audience,
    ("POST", "segment/mapping/"): segment_mapping,
    ("GET", "dmp/custom_audience/list/"): audience_list,
    ("GET", "dmp/custom_audience/get/"): audience_get,
    ("POST", "dmp/custom_audience/delete/"): audience_delete,
}
UNLIMITED = {"oauth2/access_token/", "oauth2/revoke_token/"}
