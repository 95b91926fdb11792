"""Who each row is: the identity rule. This is the seam the identity graph plugs into.

A rule says which node hashes `prepare` must compute (`nodes`) and turns a prepared frame
into each row's 16-byte person key (null where the row has no usable identifier).

The rule today, `FirstIdentifier`: a row's person is its highest-priority usable
identifier (email, then phone, then MAID, `kinds.FAMILIES` order), and the person key is
the first 16 bytes of that identifier's node key, HMAC(K_node, family ":" sha256(canonical)).
Only that one node hash is computed per row. The identity graph will be a rule that asks
for every node (`nodes="all"`) and looks the row's node keys up in the partner's graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal, Protocol

import polars as pl

from resolver import kinds as k
from resolver.pipeline.hashing import hex_to_binary, hmac_sha256_hex

# Which node hashes prepare computes: none (match keys only), the one of the family the
# rule chose per row (as `person_node` and `person_family`), or all of them.
NodeMode = Literal["none", "chosen", "all"]


class IdentityRule(Protocol):
    nodes: ClassVar[NodeMode]

    def person_keys(self, prepared: pl.DataFrame, node_hmac_key: str) -> pl.Series:
        """A Binary series of 16-byte person keys, row-aligned with `prepared`."""
        ...


def chosen_family(usable: Mapping[str, Sequence[str]]) -> pl.Expr:
    """The highest-priority family with a usable identifier on each row; `usable` names,
    per family, the columns that are non-null where it has one."""
    chosen: pl.Expr = pl.lit(None, dtype=pl.String)
    for fam in reversed(k.FAMILIES):
        if usable.get(fam):
            ok = pl.any_horizontal([pl.col(c).is_not_null() for c in usable[fam]])
            chosen = pl.when(ok).then(pl.lit(fam)).otherwise(chosen)
    return chosen


class FirstIdentifier:
    """A row's person is its first usable identifier (see the module docstring)."""

    nodes: ClassVar[NodeMode] = "chosen"

    def person_keys(self, prepared: pl.DataFrame, node_hmac_key: str) -> pl.Series:
        node = pl.col("person_family") + ":" + pl.col("person_node")
        key = hex_to_binary(hmac_sha256_hex(node, node_hmac_key).str.slice(0, 32))
        return prepared.select(key.alias("person_key")).to_series()
