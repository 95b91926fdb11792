"""TikTok Business API v1.3 destination."""

from distributor.destinations.tiktok.client import ROLE_MANAGER, TikTokApi, TikTokDestination

__all__ = ["ROLE_MANAGER", "TikTokApi", "TikTokDestination"]
