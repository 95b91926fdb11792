"""Vectorized SHA-256 and HMAC-SHA256 as Polars expressions (polars-hash, native code).

Outputs are lowercase hex strings; `hex_to_binary` turns them into raw bytes where a
binary key is needed. polars-hash takes an HMAC key as `str` and uses its UTF-8 bytes.
"""

from __future__ import annotations

import hashlib

import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace)

from resolver.kinds import ALL_ZERO_MAID

# Pre-hashed values that carry no identity: the all-zero MAID in its usual written forms,
# the empty string, and all-zero digests. They are rejected like the zero MAID itself.
BLOCKED_SHA256 = frozenset(
    {
        hashlib.sha256(ALL_ZERO_MAID.encode()).hexdigest(),
        hashlib.sha256(ALL_ZERO_MAID.replace("-", "").encode()).hexdigest(),
        hashlib.sha256(b"").hexdigest(),
        "0" * 64,
    }
)


def sha256_hex(expr: pl.Expr) -> pl.Expr:
    """SHA-256 of the UTF-8 bytes of a string column, as lowercase hex; null stays null."""
    result: pl.Expr = expr.chash.sha2_256()  # type: ignore[attr-defined]
    return result


def hmac_sha256_hex(expr: pl.Expr, key: str) -> pl.Expr:
    """HMAC-SHA256 keyed by `key.encode()`, as lowercase hex; null stays null."""
    result: pl.Expr = expr.chash.hmac_sha256(key=key)  # type: ignore[attr-defined]
    return result


def hex_to_binary(expr: pl.Expr) -> pl.Expr:
    """Lowercase hex string -> raw bytes."""
    return expr.str.decode("hex")


def valid_sha256(expr: pl.Expr) -> pl.Expr:
    """A pre-hashed SHA-256: 64 hex characters in either case, lowercased; else null."""
    lowered = expr.str.strip_chars().str.to_lowercase()
    ok = lowered.str.contains(r"^[0-9a-f]{64}$") & ~lowered.is_in(sorted(BLOCKED_SHA256))
    return pl.when(ok).then(lowered)
