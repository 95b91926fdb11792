"""Node keys: what the identity graph is made of.

Every usable identifier of a row gets a node key, HMAC(K_node, family ":" sha256(canonical))
(resolver.keys), kept as its first 16 bytes in two unsigned 64-bit halves (`<family>_hi`,
`<family>_lo`): fixed-width integers join and sort far faster than strings or bytes, and
128 bits make a collision among a partner's identifiers out of reach. The graph
(resolver.graph) links the node keys that rows carry together into persons.
"""

from __future__ import annotations

import polars as pl

from resolver import kinds as k
from resolver.pipeline.hashing import hmac_sha256_hex

KEY_COLUMNS = tuple(f"{fam}_{half}" for fam in k.FAMILIES for half in ("hi", "lo"))


def node_key_halves(family: str, node_hash: pl.Expr, node_hmac_key: str) -> list[pl.Expr]:
    """The two 64-bit halves of the node key of `node_hash` (SHA-256 hex of a canonical
    value of `family`), aliased `<family>_hi` and `<family>_lo`; null stays null."""
    key = hmac_sha256_hex(pl.lit(f"{family}:") + node_hash, node_hmac_key)
    return [
        key.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64).alias(f"{family}_hi"),
        key.str.slice(16, 16).str.to_integer(base=16, dtype=pl.UInt64).alias(f"{family}_lo"),
    ]


def node_keys(prepared: pl.DataFrame, node_hmac_key: str) -> pl.DataFrame:
    """KEY_COLUMNS for the node hashes of a prepared frame (`<family>_node` columns)."""
    return prepared.select(
        expr
        for fam in k.FAMILIES
        for expr in node_key_halves(fam, pl.col(f"{fam}_node"), node_hmac_key)
    )
