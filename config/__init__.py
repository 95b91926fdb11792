"""Settings for Tessera: defaults -> config file -> environment -> flags, as typed sections.

This package imports nothing else from the project.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.sections import (
        DistributorSettings,
        InboxSettings,
        KeysSettings,
        PartnerSettings,
        ResolverSettings,
        SandboxSettings,
        SettingsError,
        TikTokSettings,
    )
    from config.settings import (
        DEFAULT_HOME,
        ENV_PREFIX,
        Secret,
        Settings,
        defaults_text,
        load_settings,
        resolve_home,
    )

# Loaded on first use, so the console scripts (config/script.py) start on the standard
# library alone.
_SECTIONS = (
    "DistributorSettings",
    "InboxSettings",
    "KeysSettings",
    "PartnerSettings",
    "ResolverSettings",
    "SandboxSettings",
    "SettingsError",
    "TikTokSettings",
)
_SETTINGS = (
    "DEFAULT_HOME",
    "ENV_PREFIX",
    "Secret",
    "Settings",
    "defaults_text",
    "load_settings",
    "resolve_home",
)
_HOME = dict.fromkeys(_SECTIONS, "config.sections") | dict.fromkeys(_SETTINGS, "config.settings")


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'config' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


__all__ = [
    "DEFAULT_HOME",
    "ENV_PREFIX",
    "DistributorSettings",
    "InboxSettings",
    "KeysSettings",
    "PartnerSettings",
    "ResolverSettings",
    "SandboxSettings",
    "Secret",
    "Settings",
    "SettingsError",
    "TikTokSettings",
    "defaults_text",
    "load_settings",
    "resolve_home",
]
