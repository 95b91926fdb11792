"""AES-256-GCM sealing: a blob opens only under its key and label, fails without leaking
what it holds, and a sealed stream opens only whole and in order."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolver.errors import StoreError
from resolver.state import seal
from resolver.state.seal import NONCE_BYTES, Sealer

KEY = bytes(range(32))
SECRET = b"alice@example.com,+14155550100"
SMALL_BLOCK = 64
# One sealed stream block on disk: 4-byte length, nonce, ciphertext, 16-byte tag.
FRAME = 4 + NONCE_BYTES + SMALL_BLOCK + 16


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 64 bytes instead of 16 MiB, so multi-block streams stay tiny."""
    monkeypatch.setattr(seal, "BLOCK_BYTES", SMALL_BLOCK)


def assert_leaks_nothing(error: StoreError, label: str) -> None:
    """The message names the label; no key or plaintext, in any encoding, and no chained
    exception carrying more."""
    message = str(error)
    assert label in message
    for secret in (KEY, SECRET):
        for form in (secret.hex(), repr(secret), secret.decode("latin-1")):
            assert form not in message
    assert error.__cause__ is None
    assert error.__suppress_context__


def sealed_stream(sealer: Sealer, data: bytes, label: str) -> bytes:
    out = io.BytesIO()
    sealer.seal_stream(io.BytesIO(data), out, label)
    return out.getvalue()


@given(st.binary(max_size=2048), st.text(max_size=40))
def test_seal_open_round_trip(data: bytes, label: str) -> None:
    sealer = Sealer(KEY)
    blob = sealer.seal(data, label)
    assert len(blob) == NONCE_BYTES + len(data) + 16
    assert sealer.open(blob, label) == data


def test_two_seals_of_the_same_data_differ() -> None:
    """A fresh random nonce each time: equal plaintexts are not visible as equal blobs."""
    sealer = Sealer(KEY)
    first, second = sealer.seal(SECRET, "raw/1"), sealer.seal(SECRET, "raw/1")
    assert first != second
    assert first[:NONCE_BYTES] != second[:NONCE_BYTES]
    assert sealer.open(first, "raw/1") == sealer.open(second, "raw/1") == SECRET


def test_a_wrong_label_fails_and_names_the_label() -> None:
    """The label is bound as associated data: a blob moved to another place won't open."""
    blob = Sealer(KEY).seal(SECRET, "raw/1")
    with pytest.raises(StoreError) as caught:
        Sealer(KEY).open(blob, "raw/2")
    assert_leaks_nothing(caught.value, "raw/2")


def test_a_wrong_key_fails() -> None:
    blob = Sealer(os.urandom(32)).seal(SECRET, "token/acme")
    with pytest.raises(StoreError) as caught:
        Sealer(KEY).open(blob, "token/acme")
    assert_leaks_nothing(caught.value, "token/acme")


@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_a_flipped_byte_fails(where: str) -> None:
    blob = bytearray(Sealer(KEY).seal(SECRET, "raw/1"))
    index = {"nonce": 0, "ciphertext": NONCE_BYTES + 3, "tag": len(blob) - 1}[where]
    blob[index] ^= 0x01
    with pytest.raises(StoreError) as caught:
        Sealer(KEY).open(bytes(blob), "raw/1")
    assert_leaks_nothing(caught.value, "raw/1")


@pytest.mark.parametrize("length", [NONCE_BYTES, NONCE_BYTES + 15])
def test_a_blob_too_short_for_its_tag_fails(length: int) -> None:
    blob = Sealer(KEY).seal(SECRET, "raw/1")[:length]
    with pytest.raises(StoreError, match="raw/1"):
        Sealer(KEY).open(blob, "raw/1")


@pytest.mark.parametrize("length", [0, 5])
def test_a_blob_shorter_than_a_nonce_fails_as_store_error(length: int) -> None:
    blob = Sealer(KEY).seal(SECRET, "raw/1")[:length]
    with pytest.raises(StoreError, match="raw/1"):
        Sealer(KEY).open(blob, "raw/1")


def test_repr_shows_no_key() -> None:
    text = repr(Sealer(KEY)) + str(Sealer(KEY))
    assert "***" in text
    assert KEY.hex() not in text
    assert repr(KEY) not in text


@pytest.mark.parametrize(
    "size", [0, 1, SMALL_BLOCK - 1, SMALL_BLOCK, SMALL_BLOCK + 1, 5 * SMALL_BLOCK + 7]
)
def test_stream_round_trip_across_blocks(tmp_path: Path, small_blocks: None, size: int) -> None:
    data = os.urandom(size)
    path = tmp_path / "raw.sealed"
    path.write_bytes(sealed_stream(Sealer(KEY), data, "raw/7"))
    assert Sealer(KEY).open_stream(path, "raw/7") == data
    blocks = -(-size // SMALL_BLOCK) + 1  # the data's, and the empty end marker
    assert path.stat().st_size == size + blocks * (FRAME - SMALL_BLOCK)


def test_stream_blocks_are_sealed_under_their_numbers(small_blocks: None) -> None:
    """Block n opens as a plain blob under `label/n`, so blocks cannot trade places."""
    data = os.urandom(3 * SMALL_BLOCK)
    raw = sealed_stream(Sealer(KEY), data, "raw/7")
    for n in range(3):
        blob = raw[n * FRAME + 4 : (n + 1) * FRAME]
        assert int.from_bytes(raw[n * FRAME : n * FRAME + 4], "big") == len(blob)
        assert Sealer(KEY).open(blob, f"raw/7/{n}") == data[n * SMALL_BLOCK : (n + 1) * SMALL_BLOCK]


def test_stream_rejects_reordered_blocks(tmp_path: Path, small_blocks: None) -> None:
    raw = sealed_stream(Sealer(KEY), os.urandom(3 * SMALL_BLOCK), "raw/7")
    first, second, third = (raw[n * FRAME : (n + 1) * FRAME] for n in range(3))
    path = tmp_path / "raw.sealed"
    path.write_bytes(second + first + third)
    with pytest.raises(StoreError) as caught:
        Sealer(KEY).open_stream(path, "raw/7")
    assert_leaks_nothing(caught.value, "raw/7/0")


def test_stream_rejects_another_streams_label(tmp_path: Path, small_blocks: None) -> None:
    path = tmp_path / "raw.sealed"
    path.write_bytes(sealed_stream(Sealer(KEY), os.urandom(2 * SMALL_BLOCK), "raw/7"))
    with pytest.raises(StoreError, match="raw/8/0"):
        Sealer(KEY).open_stream(path, "raw/8")


@pytest.mark.parametrize(
    ("kept", "block"),
    [
        (4 + 8, 0),
        (FRAME - 1, 0),
        (2 * FRAME + 4 + NONCE_BYTES + 1, 2),
        (3 * FRAME - 1, 2),
    ],
)
def test_stream_rejects_a_block_cut_short(
    tmp_path: Path, small_blocks: None, kept: int, block: int
) -> None:
    """Cut inside a block's sealed bytes: that block fails authentication."""
    raw = sealed_stream(Sealer(KEY), os.urandom(3 * SMALL_BLOCK), "raw/7")
    path = tmp_path / "raw.sealed"
    path.write_bytes(raw[:kept])
    with pytest.raises(StoreError) as caught:
        Sealer(KEY).open_stream(path, "raw/7")
    assert_leaks_nothing(caught.value, f"raw/7/{block}")


@pytest.mark.parametrize("keep", [0, 1, 2])
def test_stream_rejects_dropped_trailing_blocks(
    tmp_path: Path, small_blocks: None, keep: int
) -> None:
    raw = sealed_stream(Sealer(KEY), os.urandom(3 * SMALL_BLOCK), "raw/7")
    path = tmp_path / "raw.sealed"
    path.write_bytes(raw[: keep * FRAME])
    with pytest.raises(StoreError, match="raw/7"):
        Sealer(KEY).open_stream(path, "raw/7")


@pytest.mark.parametrize("extra", [1, 3, 4 + 5])
def test_stream_rejects_a_cut_length_prefix(tmp_path: Path, small_blocks: None, extra: int) -> None:
    raw = sealed_stream(Sealer(KEY), os.urandom(3 * SMALL_BLOCK), "raw/7")
    path = tmp_path / "raw.sealed"
    path.write_bytes(raw[: FRAME + extra])
    with pytest.raises(StoreError, match="raw/7/1"):
        Sealer(KEY).open_stream(path, "raw/7")
