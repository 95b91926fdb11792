from __future__ import annotations

from pathlib import Path

import pytest

from config import Secret, SettingsError, load_settings


def test_layers_resolve_in_order(tmp_path: Path, clean_env: None) -> None:
    (tmp_path / "config.toml").write_text("[inbox]\nstable_seconds = 10\ninterval_seconds = 2\n")
    env = {"TESSERA_INBOX__STABLE_SECONDS": "20"}
    settings = load_settings(tmp_path, {"inbox.stable_seconds": None}, environ=env)
    assert settings.get("inbox.stable_seconds") == 20.0
    assert settings.get("inbox.interval_seconds") == 2.0
    assert settings.get("resolver.default_region") == "US"
    flagged = load_settings(tmp_path, {"inbox.stable_seconds": 1}, environ=env)
    assert flagged.get("inbox.stable_seconds") == 1.0


def test_unknown_keys_are_errors(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[inbox]\nstable_secs = 10\n")
    with pytest.raises(SettingsError, match=r"inbox\.stable_secs"):
        load_settings(tmp_path, environ={})
    with pytest.raises(SettingsError, match="expects int"):
        load_settings(tmp_path / "x", environ={"TESSERA_RESOLVER__CHUNK_ROWS": "many"})


def test_partner_tables_are_free_form(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[partners.acme]\nregion = "GB"\n')
    assert load_settings(tmp_path, environ={}).section("partners")["acme"] == {"region": "GB"}


def test_secret_never_shows() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_init_writes_commented_config_and_private_key(home: Path) -> None:
    assert (home / "master.key").stat().st_mode & 0o777 == 0o600
    before = (home / "master.key").read_text()
    from resolver.home import Home

    Home.open(home).initialize()
    assert (home / "master.key").read_text() == before
    assert load_settings(home, environ={}).get("inbox.stable_seconds") == 30.0
