"""Settings for Tessera: defaults -> config file -> environment -> flags, as typed sections.

This package imports nothing else from the project.
"""

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
