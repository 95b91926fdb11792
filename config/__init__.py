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


def __getattr__(name: str) -> Any:
    """The names of `__all__`, loaded on first use, so the console scripts
    (config/script.py) start on the standard library alone."""
    if name in __all__:
        for module in ("config.sections", "config.settings"):
            found = importlib.import_module(module)
            if hasattr(found, name):
                return getattr(found, name)
    raise AttributeError(f"module 'config' has no attribute {name!r}")


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
