"""AES-256-GCM sealing: the one way Tessera keeps bytes it must not keep in the clear
(a partner's match keys, raw files kept for retention, ad-platform tokens).

A sealed blob is `12-byte nonce ‖ ciphertext ‖ tag`; its `label` is bound as associated
data, so a blob cannot be moved to another place (another file, part or account) and still
open. A sealed stream is a run of such blobs, one per 16 MiB block, each prefixed by its
4-byte length and labelled `label/<block number>`, so memory stays flat for large files;
it ends with an empty blob labelled `label/<count>/end`, so a stream cut between blocks,
or with blocks dropped or reordered, does not open.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO

import polars as pl
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resolver.errors import StoreError

NONCE_BYTES = 12
TAG_BYTES = 16
BLOCK_BYTES = 1 << 24


class Sealer:
    """Seals and opens bytes under one 32-byte key (never shown by repr)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Sealer(key='***')"

    def seal(self, data: bytes, label: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, label.encode())

    def open(self, blob: bytes, label: str) -> bytes:
        """The plain bytes; StoreError naming the label when the blob fails authentication."""
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise StoreError(f"sealed data is too short to open ({label})") from None
        try:
            return self._aead.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], label.encode())
        except InvalidTag:
            raise StoreError(f"sealed data failed authentication ({label})") from None

    def seal_frame(self, frame: pl.DataFrame, label: str) -> bytes:
        """A frame as a sealed Parquet blob (zstd inside; sealed bytes do not compress)."""
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd")
        return self.seal(buffer.getvalue(), label)

    def open_frame(self, blob: bytes, label: str) -> pl.DataFrame:
        return pl.read_parquet(io.BytesIO(self.open(blob, label)))

    def seal_stream(self, src: IO[bytes], out: IO[bytes], label: str) -> None:
        number = 0
        while block := src.read(BLOCK_BYTES):
            _write_blob(out, self.seal(block, f"{label}/{number}"))
            number += 1
        _write_blob(out, self.seal(b"", f"{label}/{number}/end"))

    def open_stream(self, path: Path, label: str) -> bytes:
        out, number, size = bytearray(), 0, path.stat().st_size
        with path.open("rb") as handle:
            while True:
                head = handle.read(4)
                blob = handle.read(int.from_bytes(head, "big")) if len(head) == 4 else b""
                if handle.tell() >= size:  # the last blob must be the end marker
                    self.open(blob, f"{label}/{number}/end")
                    return bytes(out)
                out += self.open(blob, f"{label}/{number}")
                number += 1


def _write_blob(out: IO[bytes], sealed: bytes) -> None:
    out.write(len(sealed).to_bytes(4, "big") + sealed)
