"""Settings for Tessera: defaults -> config file -> environment -> flags.

This package imports nothing else from the project.
"""

from config.settings import (
    DEFAULT_HOME,
    ENV_PREFIX,
    Secret,
    Settings,
    SettingsError,
    defaults_text,
    load_settings,
    resolve_home,
)

__all__ = [
    "DEFAULT_HOME",
    "ENV_PREFIX",
    "Secret",
    "Settings",
    "SettingsError",
    "defaults_text",
    "load_settings",
    "resolve_home",
]
