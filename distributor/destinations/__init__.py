"""Destinations by platform: adding one is a folder beside `tiktok/` and a line here."""

from collections.abc import Callable

from config import Settings
from distributor.destinations import tiktok
from distributor.destinations.base import Capabilities
from distributor.destinations.tiktok import TikTokDestination

# platform name -> (its declared capabilities, a connection to one ad account)
REGISTRY: dict[
    str,
    tuple[Callable[[Settings], Capabilities], Callable[[Settings, str, str], TikTokDestination]],
] = {"tiktok": (tiktok.capabilities, tiktok.connect)}


def platform(
    name: str,
) -> tuple[Callable[[Settings], Capabilities], Callable[[Settings, str, str], TikTokDestination]]:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ValueError(f"unknown platform {name!r} (known: {known})") from None


__all__ = ["REGISTRY", "Platform", "platform"]
