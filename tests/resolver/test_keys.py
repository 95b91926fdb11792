"""Keys: the master key file, derivation labels, and the partner encodings."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from resolver.errors import MasterKeyError
from resolver.keys import (
    KeyRing,
    decode_person_ids,
    encode_person_ids,
    load_master_key,
    write_master_key,
)


def test_master_key_is_private_and_never_overwritten(tmp_path: Path, clean_env: None) -> None:
    path = tmp_path / "master.key"
    assert write_master_key(path)
    before = path.read_text()
    assert not write_master_key(path)
    assert path.read_text() == before
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(load_master_key(path)) == 32


def test_loose_permissions_and_bad_keys_are_refused(tmp_path: Path, clean_env: None) -> None:
    path = tmp_path / "master.key"
    write_master_key(path)
    path.chmod(0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_master_key(path)
    path.chmod(0o600)
    path.write_text("not hex")
    with pytest.raises(MasterKeyError) as info:
        load_master_key(path)
    assert "not hex" not in str(info.value)


def test_env_key_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_MASTER_KEY", "ab" * 32)
    assert load_master_key(tmp_path / "absent") == bytes.fromhex("ab" * 32)


def test_subkeys_are_distinct_and_versioned() -> None:
    ring = KeyRing(os.urandom(32))
    keys = {
        ring.subkey("node"),
        ring.partner_id_key("a"),
        ring.partner_id_key("b"),
        ring.partner_data_key("a"),
        KeyRing(ring.master, version=2).subkey("node"),
    }
    assert len(keys) == 5
    assert ring.master.hex() not in repr(ring)


def test_person_id_round_trip_keeps_nulls() -> None:
    key = os.urandom(32)
    keys = pl.Series("p", [os.urandom(16) for _ in range(1000)] + [None], dtype=pl.Binary)
    ids = encode_person_ids(keys, key)
    assert ids.null_count() == 1
    assert ids.drop_nulls().str.contains("^tp[a-z2-7]{26}$").all()
    assert decode_person_ids(ids, key).to_list() == keys.to_list()
