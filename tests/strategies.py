"""Hypothesis strategies shared by the test suite.

Each one is shaped after the data it stands for rather than left to arbitrary text: mostly
values near what partners really send (so the properties exercise the interesting code
paths), plus some free-form noise (so rejects are exercised too).
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests import oracles

# -- identifiers as partners send them (resolver normalization) ----------------------

LOCAL = st.text(alphabet="abcXYZ019._+-ÉéΣ", min_size=0, max_size=8)
"""Email local parts: mixed case, the dot and plus that profiles treat specially, and
non-ASCII letters, which the vectorized path must lower-case as `str.lower` does."""

DOMAIN = st.sampled_from(["gmail.com", "Example.COM", "x.co.uk", "b", "a..com", "mail.ru"])
"""Email domains: a provider with dot/plus rules (gmail), mixed case, a multi-label
suffix, and two invalid ones (no dot, an empty label)."""

SPACE = st.sampled_from(["", " ", "\t", "  ", "\n"])
"""Surrounding whitespace that normalization must strip."""

EMAILS = st.one_of(
    st.builds(lambda a, local, d, b: f"{a}{local}@{d}{b}", SPACE, LOCAL, DOMAIN, SPACE),
    st.text(max_size=12),
)
"""Email cells: mostly address-shaped (padded, mixed-case), sometimes arbitrary text."""

US_SHAPES = [
    "({a}) {x}-{l}",
    "{a}-{x}-{l}",
    "{a}.{x}.{l}",
    "+1 {a} {x} {l}",
    "1{a}{x}{l}",
    "1-{a}-{x}-{l}",
    "{a}{x}{l}",
    "+1{a}{x}{l}",
]
"""The ways North American numbers are written: `a` area code, `x` exchange, `l` line."""

PHONES = st.one_of(
    st.builds(
        lambda shape, a, x, n: shape.format(a=a, x=x, l=n),
        st.sampled_from(US_SHAPES),
        st.sampled_from(["415", "212", "555", "011", "800", "345", "787", "999", "201"]),
        st.integers(0, 999).map(lambda v: f"{v:03d}"),
        st.integers(0, 9999).map(lambda v: f"{v:04d}"),
    ),
    st.builds(
        lambda cc, rest: f"+{cc} {rest}",
        st.sampled_from(["44", "33", "91", "61", "49"]),
        st.text(alphabet="0123456789 ", min_size=4, max_size=14),
    ),
    st.text(alphabet="0123456789+-() .x", max_size=16),
)
"""Phone cells: NANP numbers in every common shape with valid, invalid, toll-free and
Caribbean area codes (the fast path's edge); international numbers with a country code;
and digit-and-punctuation noise. Compared against the phonenumbers library."""

MAIDS = st.one_of(
    st.uuids().map(str).map(lambda u: u.upper()),
    st.uuids().map(lambda u: u.hex),
    st.just("00000000-0000-0000-0000-000000000000"),
    st.text(alphabet="0123456789abcdefABCDEF-", max_size=40),
)
"""Mobile ad ids: upper-case hyphenated and bare-hex UUIDs (both canonicalize to one
form), the all-zero id a device sends when ad tracking is limited, and hex-ish noise."""

PREHASHED = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEF ", max_size=66),
    st.sampled_from(sorted(oracles.BLOCKED)),
)
"""Pre-hashed (SHA-256 hex) cells: hex of any case and length around 64 with spaces, and
the digests of empty or all-zero ids that must be blocked rather than matched."""

# -- the planner's inputs (distributor) -----------------------------------------------

IDS = [f"{n:064x}" for n in range(12)]
"""A small alphabet of 64-hex ids, so held and current overlap, persons share ids and ids
move between persons."""

ids = st.one_of(st.none(), st.sampled_from(IDS))
"""One id cell of a person: absent or one of IDS."""

person = st.tuples(st.integers(0, 15), ids, ids, ids, ids)
"""A person as (key, one cell per destination id column); keys from a small range so the
same person appears in both held and current."""
