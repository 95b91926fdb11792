"""Layered settings: the embedded defaults.toml, then <home>/config.toml, then
TESSERA_<SECTION>__<KEY> environment variables, then explicit overrides (command flags).

Every key must exist in defaults.toml, so a typo in a file or variable is an error rather
than a silently ignored setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

ENV_PREFIX = "TESSERA_"
DEFAULT_HOME = Path(".tessera")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting is unknown or has the wrong type; the message names it, never a secret."""


class Secret:
    """A string that never shows itself in repr, str or logs; use reveal() to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def defaults_text() -> str:
    """The commented defaults file, as shipped."""
    return resources.files("config").joinpath("defaults.toml").read_text(encoding="utf-8")


def _defaults() -> dict[str, dict[str, Any]]:
    return tomllib.loads(defaults_text())


@dataclass(frozen=True)
class Settings:
    """Resolved settings: `settings.section("inbox")["stable_seconds"]` or `settings.get(...)`."""

    home: Path
    values: Mapping[str, Mapping[str, Any]] = field(repr=False)

    def section(self, name: str) -> Mapping[str, Any]:
        try:
            return self.values[name]
        except KeyError:
            raise SettingsError(f"unknown settings section [{name}]") from None

    def get(self, dotted: str) -> Any:
        section, _, key = dotted.partition(".")
        values = self.section(section)
        if key not in values:
            raise SettingsError(f"unknown setting {dotted}")
        return values[key]

    def secret(self, name: str) -> Secret | None:
        """A secret from the environment (TESSERA_<NAME>), or None when unset."""
        value = os.environ.get(ENV_PREFIX + name.upper())
        return Secret(value) if value else None


def resolve_home(home: str | Path | None = None) -> Path:
    """--home, else TESSERA_HOME, else ./.tessera."""
    if home is not None:
        return Path(home)
    env = os.environ.get(ENV_PREFIX + "HOME")
    return Path(env) if env else DEFAULT_HOME


def _coerce(dotted: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
    elif isinstance(default, int):
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(default, float):
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            pass
    elif isinstance(default, str):
        return str(value)
    elif isinstance(default, list):
        if isinstance(value, list):
            return value
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
    else:
        return value
    raise SettingsError(f"setting {dotted} expects {type(default).__name__}")


def _merge(
    base: dict[str, dict[str, Any]], layer: Mapping[str, Any], origin: str, *, open_sections: bool
) -> None:
    for section, values in layer.items():
        if section not in base:
            raise SettingsError(f"{origin}: unknown settings section [{section}]")
        if not isinstance(values, Mapping):
            raise SettingsError(f"{origin}: [{section}] must be a table")
        for key, value in values.items():
            dotted = f"{section}.{key}"
            if key not in base[section]:
                if not open_sections:
                    raise SettingsError(f"{origin}: unknown setting {dotted}")
                base[section][key] = value
                continue
            base[section][key] = _coerce(dotted, value, base[section][key])


# Secrets read with Settings.secret (never settings, never in a file).
SECRET_VARIABLES = frozenset({ENV_PREFIX + "TIKTOK__APP_SECRET"})


def _env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name in SECRET_VARIABLES:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        layer.setdefault(section, {})[key] = value
    return layer


def load_settings(
    home: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings for a home. `overrides` maps "section.key" to a flag's value;
    None values are ignored so optional flags can be passed straight through."""
    root = resolve_home(home)
    values = _defaults()
    config_file = root / "config.toml"
    if config_file.is_file():
        try:
            layer = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{config_file}: not valid TOML ({exc})") from None
        # [partners.<name>] tables hold per-partner settings and are free-form.
        partners = layer.pop("partners", None)
        _merge(values, layer, str(config_file), open_sections=False)
        if partners is not None:
            values["partners"] = dict(partners)
    values.setdefault("partners", {})
    _merge(
        values,
        _env_layer(os.environ if environ is None else environ),
        "environment",
        open_sections=False,
    )
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        _merge(values, {section: {key: value}}, "flag", open_sections=False)
    frozen = {name: MappingProxyType(dict(table)) for name, table in values.items()}
    return Settings(home=root, values=MappingProxyType(frozen))
