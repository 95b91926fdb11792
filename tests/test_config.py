from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from config import PartnerSettings, Secret, SettingsError, defaults_text, load_settings
from config.sections import SECTIONS


def test_layers_resolve_in_order(tmp_path: Path, clean_env: None) -> None:
    (tmp_path / "config.toml").write_text("[inbox]\nstable_seconds = 10\ninterval_seconds = 2\n")
    env = {"TESSERA_INBOX__STABLE_SECONDS": "20"}
    settings = load_settings(tmp_path, {"inbox.stable_seconds": None}, environ=env)
    assert settings.inbox.stable_seconds == 20.0
    assert settings.inbox.interval_seconds == 2.0
    assert settings.resolver.default_region == "US"
    flagged = load_settings(tmp_path, {"inbox.stable_seconds": 1}, environ=env)
    assert flagged.inbox.stable_seconds == 1.0


def test_every_default_is_a_typed_field_and_back() -> None:
    defaults = tomllib.loads(defaults_text())
    assert set(defaults) == set(SECTIONS)
    for name, section in SECTIONS.items():
        assert set(defaults[name]) == {f.name for f in dataclasses.fields(section)}, name
    settings = load_settings(Path("/nonexistent-home"), environ={})
    assert isinstance(settings.resolver.chunk_rows, int)
    assert isinstance(settings.inbox.raw_retention_days, float)
    assert settings.distributor.retry_window_seconds == 13 * 3600


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TESSERA_RESOLVER__CHUNK_ROWS", "many", "resolver.chunk_rows expects an integer"),
        ("TESSERA_RESOLVER__CHUNK_ROWS", "0", "resolver.chunk_rows must be at least 1"),
        ("TESSERA_INBOX__STABLE_SECONDS", "soon", "inbox.stable_seconds expects a number"),
        ("TESSERA_SANDBOX__PORT", "-1", "sandbox.port must be at least 0"),
        ("TESSERA_NOPE__X", "1", "unknown settings section [nope]"),
    ],
)
def test_bad_values_name_the_layer_and_setting(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match="environment: .*" + message.replace("[", r"\[")):
        load_settings(tmp_path, environ={variable: value})


def test_unknown_keys_and_wrong_types_in_the_file_are_errors(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[inbox]\nstable_secs = 10\n")
    with pytest.raises(SettingsError, match=r"config.toml: unknown setting inbox\.stable_secs"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.toml").write_text("[tiktok]\napp_id = 12\n")
    with pytest.raises(SettingsError, match=r"tiktok\.app_id expects text"):
        load_settings(tmp_path, environ={})
    (tmp_path / "config.toml").write_text("[inbox\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(tmp_path, environ={})


def test_partner_tables_are_typed(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[partners.acme]\nregion = "GB"\naliases = { courriel = "email" }\n'
    )
    settings = load_settings(tmp_path, environ={})
    assert settings.partner("acme").region == "GB"
    assert dict(settings.partner("acme").aliases) == {"courriel": "email"}
    assert settings.partner("unknown") == PartnerSettings()
    (tmp_path / "config.toml").write_text('[partners.acme]\nregoin = "GB"\n')
    with pytest.raises(SettingsError, match=r"\[partners.acme\]: unknown setting regoin"):
        load_settings(tmp_path, environ={})


def test_secret_never_shows() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_init_writes_commented_config_and_private_key(home: Path) -> None:
    assert (home / "master.key").stat().st_mode & 0o777 == 0o600
    assert (home / "config.toml").stat().st_mode & 0o777 == 0o600
    before = (home / "master.key").read_text()
    from resolver.home import Home

    Home.open(home).initialize()
    assert (home / "master.key").read_text() == before
    assert load_settings(home, environ={}).inbox.stable_seconds == 30.0
