"""httpx client for the TikTok Business API v1.3 audience endpoints.

Every response is read as TikTok's envelope and translated by envelope.py into data or the
errors of distributor.errors; bodies come from payloads.py. Tokens go only in the
Access-Token header and never into messages or reprs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import polars as pl

from distributor.destinations.base import (
    ROLE_UNVERIFIED,
    Action,
    AudienceInfo,
    Capabilities,
)
from distributor.destinations.http import http_client
from distributor.destinations.ratelimit import SlidingWindows
from distributor.destinations.tiktok import api_version as ep
from distributor.destinations.tiktok import envelope, payloads
from distributor.errors import BadRequest, DestinationError, TransientError


class TikTokApi:
    """Endpoints that need no advertiser context: OAuth code exchange and token checks."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        connections: int = 16,
        limiter: SlidingWindows | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = http_client(
            base_url, timeout=timeout, connections=connections, transport=transport
        )
        self.limiter = limiter

    async def call(
        self,
        method: str,
        endpoint: str,
        token: str | None = None,
        body: bytes | dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """One request; `body` is sent as is when bytes, else as JSON."""
        headers = {"Access-Token": token} if token else {}
        content = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        if self.limiter is not None and token:
            await self.limiter.acquire()
        try:
            response = await self.http.request(
                method, endpoint, content=content, params=params, headers=headers
            )
            raw = response.content
        except httpx.TimeoutException:
            raise TransientError(f"{endpoint}: timed out") from None
        except httpx.TransportError as exc:
            raise TransientError(f"{endpoint}: connection failed ({type(exc).__name__})") from None
        return envelope.unwrap(endpoint, response.status_code, envelope.parse(raw))

    async def exchange_auth_code(self, app_id: str, secret: str, auth_code: str) -> str:
        """oauth2/access_token/: an auth code for a long-term access token."""
        data = await self.call(
            "POST", ep.OAUTH_EXCHANGE, body=payloads.access_token(app_id, secret, auth_code)
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise DestinationError(f"{ep.OAUTH_EXCHANGE}: no access_token in the answer")
        return token

    async def authorized_advertisers(self, token: str, app_id: str, secret: str) -> list[str]:
        params = {"app_id": app_id, "secret": secret}
        data = await self.call("GET", ep.OAUTH_ADVERTISERS, token=token, params=params)
        return [str(item["advertiser_id"]) for item in data.get("list", [])]

    async def aclose(self) -> None:
        await self.http.aclose()


class TikTokDestination:
    """One TikTok ad account (advertiser) reached with one access token, within TikTok's
    rate limits (a client-side sliding window per destination)."""

    def __init__(
        self, api: TikTokApi, advertiser_id: str, token: str, capabilities: Capabilities
    ) -> None:
        self.api = api
        self.advertiser_id = advertiser_id
        self._token = token
        self.capabilities = capabilities

    def __repr__(self) -> str:
        return f"TikTokDestination(advertiser_id={self.advertiser_id!r}, token='***')"

    async def _call(self, method: str, endpoint: str, **kwargs: Any) -> Any:
        return await self.api.call(method, endpoint, token=self._token, **kwargs)

    async def check_access(self) -> str:
        """user/info validates the token. TikTok reports no role per advertiser, so an
        empty mapping probes the right to manage audiences: 40001 (AuthError) proves it is
        missing; the 40002 that answers the empty batch proves nothing if TikTok checked
        the parameters first, so the role stays ROLE_UNVERIFIED until a first create or
        upload succeeds."""
        await self._call("GET", ep.USER_INFO)
        try:
            await self._call("POST", ep.MAPPING, body=payloads.permission_probe(self.advertiser_id))
        except BadRequest:
            return ROLE_UNVERIFIED
        raise DestinationError(f"{ep.MAPPING}: an empty permission probe was accepted")

    async def create_audience(self, name: str) -> str:
        body = payloads.create_audience(self.advertiser_id, name)
        data = await self._call("POST", ep.AUDIENCE, body=body)
        return str(data["audience_id"])

    async def delete_audience(self, audience_id: str) -> None:
        body = payloads.delete_audience(self.advertiser_id, audience_id)
        await self._call("POST", ep.AUDIENCE, body=body)

    async def list_audiences(self) -> list[AudienceInfo]:
        found: list[AudienceInfo] = []
        page = 1
        while True:
            params = {"advertiser_id": self.advertiser_id, "page": str(page), "page_size": "100"}
            data = await self._call("GET", ep.AUDIENCE_LIST, params=params)
            found += [_audience(item) for item in data.get("list", [])]
            if page >= int(data.get("page_info", {}).get("total_page", 1)):
                return found
            page += 1

    async def get_audience(self, audience_id: str) -> AudienceInfo:
        params = {
            "advertiser_id": self.advertiser_id,
            "custom_audience_ids": orjson.dumps([audience_id]).decode(),
        }
        data = await self._call("GET", ep.AUDIENCE_GET, params=params)
        return _audience(data["list"][0]["audience_details"])

    async def mapping(
        self, action: Action, audience_id: str, id_columns: Sequence[str], ids: pl.DataFrame
    ) -> None:
        body = payloads.mapping(self.advertiser_id, action, audience_id, id_columns, ids)
        await self._call("POST", ep.MAPPING, body=body)

    async def aclose(self) -> None:
        await self.api.aclose()


def _audience(item: dict[str, Any]) -> AudienceInfo:
    return AudienceInfo(str(item["audience_id"]), str(item["name"]), int(item.get("cover_num", 0)))
