"""Keys and pseudonymous IDs.

One 32-byte master key (64 hex characters in a 0600 file, or TESSERA_MASTER_KEY) is the
root of every secret. Subkeys come from HKDF-SHA256 with distinct, versioned `info`
labels, so rotating a purpose means bumping its version, not the master key.

* node key   = HMAC(K_node, kind ":" sha256_hex(canonical))   (32 bytes, internal)
* person key = 16 bytes, internal and never shown to anyone: for a person of a partner's
  graph, AES-256(K_person/partner, "tsrpid" ‖ 0 ‖ 1 ‖ pid) (a keyed permutation of the
  durable person number, so it is unique and turns back into the pid); for a person made
  only for one run (a file resolved outside a partner's graph), AES-256(K_derived/partner,
  the smallest node key of the person)
* person_id  = "tp" + base32(AES-256(K_partner, person key)): one block, a keyed
  permutation, so only the service can translate between partners' encodings.

polars-hash takes an HMAC key only as a `str` and uses its UTF-8 bytes; HMAC subkeys are
therefore handed around as 64-character hex strings, and every tool (the scalar oracle in
the tests included) uses `key_hex.encode()` as the HMAC key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from resolver.errors import MasterKeyError, OptionError
from resolver.state.atomic import create_exclusive

MASTER_KEY_ENV = "TESSERA_MASTER_KEY"
PERSON_ID_PREFIX = "tp"
PERSON_KEY_BYTES = 16
_B32_LEN = 26  # 16 bytes -> 26 base32 characters without padding


def generate_master_key_hex() -> str:
    return secrets.token_hex(32)


def write_master_key(path: Path) -> bool:
    """Create a new master key file with mode 0600. Returns False (and leaves the file
    untouched) when one already exists: a master key is never overwritten."""
    return create_exclusive(path, (generate_master_key_hex() + "\n").encode("ascii"))


def _parse_master(text: str, origin: str) -> bytes:
    value = text.strip()
    if len(value) != 64:
        raise MasterKeyError(f"{origin}: the master key must be 64 hex characters (32 bytes)")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MasterKeyError(
            f"{origin}: the master key must be 64 hex characters (32 bytes)"
        ) from None


def load_master_key(path: Path) -> bytes:
    """The master key from TESSERA_MASTER_KEY, else from the key file."""
    env = os.environ.get(MASTER_KEY_ENV)
    if env:
        return _parse_master(env, MASTER_KEY_ENV)
    if not path.is_file():
        raise MasterKeyError(
            f"no master key at {path}: run `resolver init` or set {MASTER_KEY_ENV}"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise MasterKeyError(
            f"{path}: the master key file must not be readable by others (chmod 600)"
        )
    return _parse_master(path.read_text(encoding="ascii", errors="replace"), str(path))


def hkdf(master: bytes, label: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label.encode()).derive(
        master
    )


def fingerprint(key: bytes) -> str:
    """A short, non-reversible name for a key, safe to print."""
    return hashlib.sha256(b"tessera-fingerprint:" + key).hexdigest()[:16]


@dataclass(frozen=True)
class KeyRing:
    """Every key the service derives from one master key."""

    master: bytes = field(repr=False)
    version: int = 1

    def _label(self, purpose: str) -> str:
        return f"tessera/v{self.version}/{purpose}"

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte subkey for a named purpose (e.g. "distributor/tokens")."""
        return hkdf(self.master, self._label(purpose))

    @property
    def node_hmac_key(self) -> str:
        """HMAC key for node keys, as the str polars-hash needs (its UTF-8 bytes are the key)."""
        return self.subkey("node").hex()

    def partner_id_key(self, partner: str) -> bytes:
        """AES-256 key for the partner's person_id encoding."""
        return self.subkey(f"partner-id/{partner}")

    def person_key_key(self, partner: str) -> bytes:
        """AES-256 key turning a partner's durable person numbers into person keys."""
        return self.subkey(f"person/{partner}")

    def derived_key_key(self, partner: str) -> bytes:
        """AES-256 key for the person keys of persons made for one run only."""
        return self.subkey(f"person-derived/{partner}")

    def partner_data_key(self, partner: str) -> bytes:
        """AES-256-GCM key for the partner's stored match keys."""
        return self.subkey(f"partner-data/{partner}")

    def fingerprints(self) -> dict[str, str]:
        return {
            "master": fingerprint(self.master),
            "node": fingerprint(self.subkey("node")),
        }

    @classmethod
    def load(cls, path: Path, version: int = 1) -> KeyRing:
        return cls(master=load_master_key(path), version=version)


# -- vectorized AES-256-ECB over 16-byte blocks ---------------------------------------


def _pack(keys: pl.Series) -> tuple[memoryview, pa.Array]:
    arrow = keys.to_arrow()
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    fixed = arrow.cast(pa.binary(PERSON_KEY_BYTES))
    buf = memoryview(fixed.buffers()[1]).cast("B")
    start = fixed.offset * PERSON_KEY_BYTES
    return buf[start : start + len(fixed) * PERSON_KEY_BYTES], fixed


def _ecb(keys: pl.Series, key: bytes, *, decrypt: bool) -> pl.Series:
    """Encrypt/decrypt a Binary column of 16-byte values in one call; nulls stay null."""
    name = keys.name
    valid = keys.is_not_null()
    filled = keys.fill_null(b"\0" * PERSON_KEY_BYTES)
    if len(filled) == 0:
        return pl.Series(name, [], dtype=pl.Binary)
    lengths = filled.bin.size()
    if (lengths != PERSON_KEY_BYTES).any():
        raise ValueError("person keys must be 16 bytes")
    data, fixed = _pack(filled)
    out = np.empty(len(data) + 16, np.uint8)
    # ECB over single 16-byte blocks is a keyed permutation (a PRP), not a bulk mode.
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    n = ctx.update_into(data, out.data)
    ctx.finalize()
    result = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(PERSON_KEY_BYTES), len(fixed), [None, pa.py_buffer(out[:n])]
    )
    series = pl.Series(name, pl.from_arrow(result)).cast(pl.Binary)
    return (
        series.zip_with(valid, pl.Series(name, [None] * len(series), dtype=pl.Binary))
        if not valid.all()
        else series
    )


PID_PREFIX = int.from_bytes(b"tsrpid\x00\x01", "big")


def _blocks(hi: np.ndarray, lo: np.ndarray) -> pl.Series:
    """16-byte big-endian blocks from two 64-bit halves, as a Binary series."""
    halves = np.empty((len(hi), 2), dtype=">u8")
    halves[:, 0], halves[:, 1] = hi, lo
    arrow = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(PERSON_KEY_BYTES), len(hi), [None, pa.py_buffer(halves.tobytes())]
    )
    return pl.Series("person_key", pl.from_arrow(arrow)).cast(pl.Binary)


def person_keys_of(pids: np.ndarray, key: bytes) -> pl.Series:
    """Person keys of durable person numbers (pids >= 0)."""
    prefix = np.full(len(pids), PID_PREFIX, dtype=np.uint64)
    return _ecb(_blocks(prefix, pids.astype(np.uint64)), key, decrypt=False)


def pids_of(person_keys: pl.Series, key: bytes) -> pl.Series:
    """The pid behind each person key (null where it is not a durable person's key)."""
    plain = _ecb(person_keys, key, decrypt=True)
    prefix = plain.bin.slice(0, 8).bin.reinterpret(dtype=pl.UInt64, endianness="big")
    pid = plain.bin.slice(8, 8).bin.reinterpret(dtype=pl.UInt64, endianness="big")
    ours = pl.when(prefix == PID_PREFIX).then(pid)  # else null: nothing else is cast
    return pl.select(ours.cast(pl.Int64, strict=False)).to_series()


def derived_person_keys(hi: np.ndarray, lo: np.ndarray, key: bytes) -> pl.Series:
    """Person keys of one-run persons, from each person's smallest node key."""
    return _ecb(_blocks(hi, lo), key, decrypt=False)


def encode_person_ids(person_keys: pl.Series, partner_key: bytes) -> pl.Series:
    """Partner-facing IDs: "tp" + lowercase base32 of AES-256(partner key, person key)."""
    encrypted = _ecb(person_keys, partner_key, decrypt=False)
    return _b32_batch(encrypted).alias(person_keys.name)


def _b32_batch(series: pl.Series) -> pl.Series:
    """Vectorized lowercase base32 of 16-byte values: 130 bits (128 + 2 zero pad bits) as
    26 five-bit symbols, read from two big-endian 64-bit halves."""
    valid = series.is_not_null()
    filled = series.fill_null(b"\0" * PERSON_KEY_BYTES)
    data, _ = _pack(filled)
    halves = np.frombuffer(data, dtype=">u8").reshape(-1, 2)
    hi, lo = halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64)
    rows = hi.shape[0]
    full = np.empty((rows, len(PERSON_ID_PREFIX) + _B32_LEN), dtype=np.uint8)
    full[:, : len(PERSON_ID_PREFIX)] = np.frombuffer(PERSON_ID_PREFIX.encode(), dtype=np.uint8)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
    mask = np.uint64(31)
    for j in range(_B32_LEN):
        start = 5 * j  # bit offset from the top of the 130-bit string
        if start + 5 <= 64:
            sym = (hi >> np.uint64(59 - start)) & mask
        elif start >= 64:
            shift = 59 - (start - 64)
            sym = (
                (lo >> np.uint64(shift)) & mask if shift >= 0 else (lo << np.uint64(-shift)) & mask
            )
        else:  # straddles the halves
            high_bits = 64 - start
            sym = ((hi << np.uint64(5 - high_bits)) & mask) | (
                lo >> np.uint64(64 - (5 - high_bits))
            )
        full[:, len(PERSON_ID_PREFIX) + j] = alphabet[sym.astype(np.intp)]
    width = full.shape[1]
    arrow = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, pa.py_buffer(full)])
    out = pl.Series(series.name, pl.from_arrow(arrow)).cast(pl.Binary).cast(pl.String)
    if not valid.all():
        out = out.zip_with(valid, pl.Series(series.name, [None] * len(out), dtype=pl.String))
    return out


def decode_person_ids(person_ids: pl.Series, partner_key: bytes) -> pl.Series:
    """Person keys back from one partner's person_ids (service-side only). A value that
    is not "tp" + 26 base32 characters raises OptionError (which does not name it)."""
    shape = f"^{PERSON_ID_PREFIX}[A-Za-z2-7]{{{_B32_LEN}}}$"
    if not person_ids.drop_nulls().str.contains(shape).all():
        raise OptionError(f"not a person_id ({PERSON_ID_PREFIX} and {_B32_LEN} base32 characters)")
    body = person_ids.str.strip_prefix(PERSON_ID_PREFIX).str.to_uppercase() + "======"
    raw = pl.Series(
        person_ids.name,
        [None if v is None else base64.b32decode(v) for v in body.to_list()],
        dtype=pl.Binary,
    )
    return _ecb(raw, partner_key, decrypt=True)


def translate_person_ids(person_ids: pl.Series, from_key: bytes, to_key: bytes) -> pl.Series:
    """Re-encode one partner's person_ids for another partner."""
    return encode_person_ids(decode_person_ids(person_ids, from_key), to_key)


def node_key_scalar(node_hmac_key: str, kind: str, sha256_hex: str) -> bytes:
    """Scalar reference for a node key (tests and one-off look-ups, never the hot path)."""
    message = f"{kind}:{sha256_hex}".encode()
    return hmac.new(node_hmac_key.encode(), message, "sha256").digest()
