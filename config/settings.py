"""Layered settings: the embedded defaults.toml, then <home>/config.toml, then
TESSERA_<SECTION>__<KEY> environment variables, then explicit overrides (command flags).

Every key must exist in defaults.toml, so a typo in a file or variable is an error rather
than a silently ignored setting. Values are cast as each layer is merged (sections.py), so
an error names the layer and the setting; the result is one frozen object of typed sections.
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

from config.sections import (
    SECTIONS,
    DistributorSettings,
    GraphSettings,
    InboxSettings,
    KeysSettings,
    PartnerSettings,
    ResolverSettings,
    SandboxSettings,
    ServiceSettings,
    SettingsError,
    TikTokSettings,
    build,
    coerce,
    field_types,
    partner_settings,
)

ENV_PREFIX = "TESSERA_"
DEFAULT_HOME = Path(".tessera")
# Secrets read with Settings.secret (never settings, never in a file).
SECRET_VARIABLES = frozenset({ENV_PREFIX + "TIKTOK__APP_SECRET"})


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


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one home: `settings.inbox.stable_seconds`, typed."""

    home: Path
    resolver: ResolverSettings
    keys: KeysSettings
    inbox: InboxSettings
    graph: GraphSettings
    distributor: DistributorSettings
    service: ServiceSettings
    tiktok: TikTokSettings
    sandbox: SandboxSettings
    partners: Mapping[str, PartnerSettings] = field(default_factory=dict, repr=False)

    def partner(self, name: str | None) -> PartnerSettings:
        """`[partners.NAME]` of config.toml (empty when the partner has none)."""
        return self.partners.get(name or "", PartnerSettings())

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


Values = dict[str, dict[str, Any]]


def _merge(base: Values, layer: Mapping[str, Any], origin: str) -> None:
    for section, values in layer.items():
        if section not in base:
            raise SettingsError(f"{origin}: unknown settings section [{section}]")
        if not isinstance(values, Mapping):
            raise SettingsError(f"{origin}: [{section}] must be a table")
        types = field_types(SECTIONS[section])
        for key, value in values.items():
            dotted = f"{section}.{key}"
            if key not in base[section]:
                raise SettingsError(f"{origin}: unknown setting {dotted}")
            kind, minimum = types[key]
            try:
                base[section][key] = coerce(dotted, value, kind, minimum)
            except SettingsError as exc:
                raise SettingsError(f"{origin}: {exc}") from None


def _env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name or name in SECRET_VARIABLES:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        layer.setdefault(section, {})[key] = value
    return layer


def _file_layer(path: Path) -> tuple[dict[str, Any], dict[str, PartnerSettings]]:
    """config.toml's sections and its [partners.NAME] tables."""
    if not path.is_file():
        return {}, {}
    try:
        layer = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    tables = layer.pop("partners", {})
    if not isinstance(tables, Mapping):
        raise SettingsError(f"{path}: [partners] must hold [partners.NAME] tables")
    try:
        partners = {name: partner_settings(name, table) for name, table in tables.items()}
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    return layer, partners


def load_settings(
    home: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings for a home. `overrides` maps "section.key" to a flag's value;
    None values are ignored so optional flags can be passed straight through."""
    root = resolve_home(home)
    config_file = root / "config.toml"
    values: Values = tomllib.loads(defaults_text())
    _merge(values, values, "defaults.toml")  # the shipped defaults are typed like any layer
    layer, partners = _file_layer(config_file)
    _merge(values, layer, str(config_file))
    _merge(values, _env_layer(os.environ if environ is None else environ), "environment")
    for dotted, value in (overrides or {}).items():
        if value is not None:
            section, _, key = dotted.partition(".")
            _merge(values, {section: {key: value}}, "flag")
    sections = {name: build(name, table) for name, table in values.items()}
    return Settings(home=root, partners=MappingProxyType(partners), **sections)
