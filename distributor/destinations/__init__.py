"""Destinations by platform. A platform is its capabilities and a connector; adding one is
a folder beside `tiktok/` and a line in REGISTRY."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from config import Settings
from distributor.destinations import tiktok
from distributor.destinations.base import Capabilities, Destination
from distributor.errors import RuleError

Connect = Callable[[Settings, str, str, httpx.AsyncBaseTransport | None], Destination]


@dataclass(frozen=True)
class Platform:
    name: str
    capabilities: Callable[[Settings], Capabilities]
    connect: Connect


REGISTRY: dict[str, Platform] = {
    "tiktok": Platform("tiktok", tiktok.capabilities, tiktok.connect),
}


def platform(name: str) -> Platform:
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise RuleError(f"unknown platform {name!r} (known: {known})") from None


__all__ = ["REGISTRY", "Platform", "platform"]
