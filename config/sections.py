"""Typed settings: one frozen dataclass per section of defaults.toml, and the only place a
raw setting (a TOML value, an environment string, a flag) is cast to its type.

Each field's annotation is its type and its optional `minimum` metadata its lower bound;
defaults.toml holds every value and its comment, and a test checks that the two agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, get_type_hints

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting is unknown or has the wrong type; the message names it, never a secret."""


def _at_least(value: float) -> dict[str, float]:
    return {"minimum": value}


@dataclass(frozen=True)
class ResolverSettings:
    default_region: str
    profile: str
    chunk_rows: int = field(metadata=_at_least(1))
    max_line_bytes: int = field(metadata=_at_least(16))


@dataclass(frozen=True)
class KeysSettings:
    key_file: str
    version: int = field(metadata=_at_least(1))


@dataclass(frozen=True)
class InboxSettings:
    interval_seconds: float = field(metadata=_at_least(0))
    stable_seconds: float = field(metadata=_at_least(0))
    max_file_bytes: int = field(metadata=_at_least(1))
    max_decompressed_bytes: int = field(metadata=_at_least(1))
    max_compression_ratio: float = field(metadata=_at_least(1))
    raw_retention_days: float = field(metadata=_at_least(0))
    quarantine_days: float = field(metadata=_at_least(0))
    output_format: str
    max_attempts: int = field(metadata=_at_least(1))


@dataclass(frozen=True)
class GraphSettings:
    max_links: int = field(metadata=_at_least(1))
    witnesses: int = field(metadata=_at_least(0))
    max_emails: int = field(metadata=_at_least(1))
    max_phones: int = field(metadata=_at_least(1))
    max_maids: int = field(metadata=_at_least(1))
    max_identifiers: int = field(metadata=_at_least(1))


@dataclass(frozen=True)
class DistributorSettings:
    batch_size: int = field(metadata=_at_least(1))
    concurrency: int = field(metadata=_at_least(1))
    retry_window_hours: float = field(metadata=_at_least(0))
    backoff_initial_seconds: float = field(metadata=_at_least(0))
    backoff_max_seconds: float = field(metadata=_at_least(0))
    throttle_initial_seconds: float = field(metadata=_at_least(0))
    throttle_max_seconds: float = field(metadata=_at_least(0))
    request_timeout_seconds: float = field(metadata=_at_least(0.001))
    run_history_days: float = field(metadata=_at_least(0))

    @property
    def retry_window_seconds(self) -> float:
        return self.retry_window_hours * 3600.0


@dataclass(frozen=True)
class ServiceSettings:
    flush_seconds: float = field(metadata=_at_least(0))
    poll_seconds: float = field(metadata=_at_least(0.01))
    sync_workers: int = field(metadata=_at_least(1))
    retry_initial_seconds: float = field(metadata=_at_least(0))
    retry_max_seconds: float = field(metadata=_at_least(0))


@dataclass(frozen=True)
class TikTokSettings:
    api_base_url: str
    app_id: str
    requests_per_second: int = field(metadata=_at_least(0))
    requests_per_minute: int = field(metadata=_at_least(0))
    max_name_length: int = field(metadata=_at_least(16))
    max_audiences: int = field(metadata=_at_least(1))


@dataclass(frozen=True)
class SandboxSettings:
    host: str
    port: int = field(metadata=_at_least(0))
    seed: int
    user_base_size: int = field(metadata=_at_least(0))
    requests_per_second: int = field(metadata=_at_least(0))
    requests_per_minute: int = field(metadata=_at_least(0))


@dataclass(frozen=True)
class PartnerSettings:
    """`[partners.NAME]` in config.toml: a partner's own region, header aliases, and the
    type of the MAIDs it sends under an untyped header (`maid`, `device_id`, ...)."""

    region: str | None = None
    maid_type: str | None = None  # "idfa" | "gaid"; None: sent as both
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


SECTIONS: dict[str, type[Any]] = {
    "resolver": ResolverSettings,
    "keys": KeysSettings,
    "inbox": InboxSettings,
    "graph": GraphSettings,
    "distributor": DistributorSettings,
    "service": ServiceSettings,
    "tiktok": TikTokSettings,
    "sandbox": SandboxSettings,
}


def coerce(dotted: str, value: Any, kind: type[Any], minimum: float | None = None) -> Any:
    """`value` as `kind` (bool, int, float or str), or SettingsError naming the setting."""
    cast = _cast(value, kind)
    if cast is None:
        raise SettingsError(f"setting {dotted} expects {_NAMES[kind]}")
    if minimum is not None and cast < minimum:
        raise SettingsError(f"setting {dotted} must be at least {minimum:g}")
    return cast


_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "text"}


def _cast(value: Any, kind: type[Any]) -> Any:
    if kind is str:
        return value if isinstance(value, str) else None
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        return text in _TRUE if text in _TRUE | _FALSE else None
    if isinstance(value, bool):
        return None
    try:
        return kind(value) if kind is float or not isinstance(value, float) else None
    except (TypeError, ValueError):
        return None


def field_types(section: type[Any]) -> dict[str, tuple[type[Any], float | None]]:
    """Each field's type and minimum, for the settings loader."""
    hints = get_type_hints(section)
    return {f.name: (hints[f.name], f.metadata.get("minimum")) for f in dataclasses.fields(section)}


def build(name: str, values: Mapping[str, Any]) -> Any:
    """The typed section from its merged, already-cast values."""
    return SECTIONS[name](**values)


def partner_settings(name: str, table: Any) -> PartnerSettings:
    """A `[partners.NAME]` table, checked: only `region` (text) and `aliases` (a table of
    header -> kind) are known, so a typo is an error rather than an ignored setting."""
    where = f"[partners.{name}]"
    if not isinstance(table, Mapping):
        raise SettingsError(f"{where} must be a table")
    unknown = sorted(set(table) - {"region", "aliases", "maid_type"})
    if unknown:
        known = "region, aliases, maid_type"
        raise SettingsError(f"{where}: unknown setting {unknown[0]} (known: {known})")
    maid_type = table.get("maid_type")
    if maid_type not in (None, "idfa", "gaid"):
        raise SettingsError(f'{where}: maid_type must be "idfa" or "gaid"')
    region = table.get("region")
    if region is not None and not isinstance(region, str):
        raise SettingsError(f"{where}: region expects text")
    aliases = table.get("aliases", {})
    if not isinstance(aliases, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise SettingsError(f'{where}: aliases expects a table such as {{ "courriel" = "email" }}')
    return PartnerSettings(
        region=region, aliases=MappingProxyType(dict(aliases)), maid_type=maid_type
    )
