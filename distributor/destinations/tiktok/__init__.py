"""TikTok Business API v1.3 destination."""

from config import Settings
from distributor.destinations.base import Capabilities
from distributor.destinations.tiktok.client import ROLE_MANAGER, TikTokApi, TikTokDestination


def capabilities(settings: Settings) -> Capabilities:
    """TikTok's limits, from the `[tiktok]` settings (the platform's cap wins)."""
    tiktok = settings.section("tiktok")
    return Capabilities(
        max_batch=min(10_000, int(settings.get("distributor.batch_size"))),
        requests_per_second=int(tiktok["requests_per_second"]),
        requests_per_minute=int(tiktok["requests_per_minute"]),
        max_audiences=int(tiktok["max_audiences"]),
        max_name_length=int(tiktok["max_name_length"]),
    )


def connect(settings: Settings, account_id: str, token: str) -> TikTokDestination:
    section = settings.section("distributor")
    return TikTokDestination(
        str(settings.get("tiktok.api_base_url")),
        account_id,
        token,
        capabilities(settings),
        timeout=float(section["request_timeout_seconds"]),
        connections=int(section["concurrency"]),
    )


__all__ = ["ROLE_MANAGER", "TikTokApi", "TikTokDestination", "capabilities", "connect"]
