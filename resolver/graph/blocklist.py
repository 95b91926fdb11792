"""The static blocklist: known junk that must never link two people or be sent.

Canonical values (the forms `prepare` hashes into node keys): placeholder emails typed
when a customer would not give one, all-zero, all-same-digit and sequential phone
numbers in the usual countries, and the zero and all-F MAIDs (limited ad tracking and a
common default). They are compared as node keys, so a pre-hashed copy of the same junk is
caught too. The list is versioned (`VERSION`, in `GraphRules.blocklist`): changing it
changes the rules' version, and a graph built with other rules is rebuilt.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl
from numpy.typing import NDArray

from resolver.kinds import ALL_ZERO_MAID
from resolver.pipeline.hashing import sha256_hex
from resolver.pipeline.identity import node_key_halves

VERSION = "builtin-1"

_EMAIL_LOCALS = ("test", "none", "noemail", "no", "null", "na", "abc", "asdf", "fake", "x")
_EMAIL_DOMAINS = ("test.com", "example.com", "email.com", "none.com", "noemail.com")
JUNK_EMAILS = tuple(
    sorted(
        {f"{local}@{domain}" for local in _EMAIL_LOCALS for domain in _EMAIL_DOMAINS}
        | {f"{local}@{local}.com" for local in _EMAIL_LOCALS}
        | {
            f"{local}@{domain}"
            for local in ("test", "none", "noemail", "noreply", "no-reply", "donotreply")
            for domain in ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
        }
        | {"user@example.com", "name@example.com", "customer@example.com", "123@123.com"}
    )
)
JUNK_MAIDS = (ALL_ZERO_MAID, "ffffffff-ffff-ffff-ffff-ffffffffffff")

# (country code, national number lengths) of the numbers placeholder phones imitate.
_PLANS = {
    "1": (10,), "44": (10,), "33": (9,), "49": (10, 11), "61": (9,), "91": (10,),
    "86": (11,), "81": (10,), "55": (10, 11), "52": (10,), "34": (9,), "39": (10,),
    "7": (10,), "31": (9,), "46": (9,), "48": (9,), "90": (10,), "27": (9,),
    "62": (10, 11), "63": (10,), "234": (10,), "65": (8,), "971": (9,), "353": (9,),
}  # fmt: skip


def _placeholder_numbers(length: int) -> set[str]:
    digits = "0123456789" * 3
    same = {str(d) * length for d in range(10)}
    runs = {digits[start : start + length] for start in range(10)}
    down = {run[::-1] for run in runs}
    return same | runs | down | {"5" * 3 + "555" + "0" * (length - 6)}


def junk_phones() -> tuple[str, ...]:
    found = {
        f"+{cc}{number}"
        for cc, lengths in _PLANS.items()
        for length in lengths
        for number in _placeholder_numbers(length)
    }
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def junk_values() -> pl.DataFrame:
    """(family, canonical) of every blocklisted value."""
    parts = [("email", JUNK_EMAILS), ("phone", junk_phones()), ("maid", JUNK_MAIDS)]
    return pl.DataFrame(
        {
            "family": [fam for fam, values in parts for _ in values],
            "canonical": [value for _, values in parts for value in values],
        }
    )


NO_KEYS = pl.DataFrame(schema={"hi": pl.UInt64(), "lo": pl.UInt64()})


@lru_cache(maxsize=4)
def blocklist_keys(node_hmac_key: str) -> pl.DataFrame:
    """(hi, lo) node keys of every blocklisted value under a home's node key."""
    values = junk_values()
    frames = []
    for family in ("email", "phone", "maid"):
        mine = values.filter(pl.col("family") == family)
        halves = node_key_halves(family, sha256_hex(pl.col("canonical")), node_hmac_key)
        frames.append(mine.select(*(h.alias(n) for h, n in zip(halves, ("hi", "lo"), strict=True))))
    return pl.concat(frames)


def blocked(
    hi: NDArray[np.uint64], lo: NDArray[np.uint64], junk: pl.DataFrame
) -> NDArray[np.bool_]:
    """Which node keys (hi, lo) are blocklisted (`junk`: blocklist_keys)."""
    nodes = pl.DataFrame({"hi": hi, "lo": lo})
    marked = junk.with_columns(pl.lit(True).alias("j"))
    hit = nodes.join(marked, on=["hi", "lo"], how="left", maintain_order="left")
    return hit.get_column("j").fill_null(False).to_numpy()
