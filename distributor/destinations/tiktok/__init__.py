"""TikTok Business API v1.3 destination: its capabilities from `[tiktok]` settings, and a
connection to one ad account."""

from __future__ import annotations

import httpx

from config import Settings
from distributor.destinations.base import ROLE_MANAGER, ROLE_UNVERIFIED, Capabilities
from distributor.destinations.ratelimit import SlidingWindows
from distributor.destinations.tiktok.client import TikTokApi, TikTokDestination

MAX_BATCH = 10_000  # TikTok's cap on users per mapping request


def capabilities(settings: Settings) -> Capabilities:
    """TikTok's limits, from the `[tiktok]` settings (the platform's cap wins)."""
    tiktok = settings.tiktok
    return Capabilities(
        max_batch=min(MAX_BATCH, settings.distributor.batch_size),
        requests_per_second=tiktok.requests_per_second,
        requests_per_minute=tiktok.requests_per_minute,
        max_audiences=tiktok.max_audiences,
        max_name_length=tiktok.max_name_length,
    )


def api(
    settings: Settings,
    limiter: SlidingWindows | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TikTokApi:
    return TikTokApi(
        settings.tiktok.api_base_url,
        timeout=settings.distributor.request_timeout_seconds,
        connections=settings.distributor.concurrency,
        limiter=limiter,
        transport=transport,
    )


def connect(
    settings: Settings,
    advertiser_id: str,
    token: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TikTokDestination:
    caps = capabilities(settings)
    limiter = SlidingWindows(caps.requests_per_second, caps.requests_per_minute)
    return TikTokDestination(api(settings, limiter, transport), advertiser_id, token, caps)


__all__ = [
    "ROLE_MANAGER",
    "ROLE_UNVERIFIED",
    "TikTokApi",
    "TikTokDestination",
    "api",
    "capabilities",
    "connect",
]
