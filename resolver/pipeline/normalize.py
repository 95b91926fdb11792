"""Identifier normalization, vectorized.

Canonical forms (what node keys are made of):
- email: trimmed, lowercased; one "@", a non-empty local part, a dotted domain with no empty
  label, no whitespace inside. Anything else: invalid_email.
- phone: E.164 with "+". A vectorized fast path settles the common shapes (NANP national
  forms when the default region is in NANP, "+<cc>..." for a few country codes) using
  phonenumbers' own validity patterns; the rest goes to phonenumbers, once per unique value.
  A number written with its country code but no "+" that is not valid in the default region
  is tried as international.
- MAID: trimmed, lowercased, 8-4-4-4-12 hex (32 bare hex digits get their hyphens back);
  the all-zero ID (limited ad tracking) is zero_maid; anything else invalid_maid.
- pre-hashed SHA-256: 64 hex characters in either case, lowercased; else invalid_hash.

These are Polars expressions and column functions of one identifier kind each; prepare.py
combines them into node hashes, match keys and reject codes per row.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberFormat

from resolver.errors import OptionError

# ASCII whitespace only: the same set in Polars and in the scalar reference.
WHITESPACE = " \t\r\n\x0b\x0c"
EMAIL_RE = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
MAID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
# Shapes the phone fast path may look at: digits, an optional leading "+", common punctuation.
PHONE_SHAPE_RE = r"^\+?[0-9 ().\-]*[0-9][0-9 ().\-]*$"
# Country codes whose "+<cc><number>" form the fast path settles (no trunk-prefix or
# leading-zero quirks in their numbering plans); others go to phonenumbers.
FAST_COUNTRY_CODES = (1, 44, 33, 91, 61)
_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def trim(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars(WHITESPACE)


# -- email --------------------------------------------------------------------------


def email_canonical(expr: pl.Expr) -> pl.Expr:
    """Trimmed, lowercased, shape-checked email; null when invalid or absent."""
    value = trim(expr).str.to_lowercase()
    return pl.when(value.str.contains(EMAIL_RE)).then(value)


def email_profile_form(canonical: pl.Expr, rule: str) -> pl.Expr:
    """The destination's form of a canonical email; null when the rule leaves it empty."""
    if rule == "lower":
        return canonical
    if rule == "strip_plus_tag":
        form = canonical.str.replace(r"\+[^@]*@", "@")
    elif rule == "uid2_gmail":
        local = canonical.str.extract(r"^([^@]*)@", 1)
        gmail = canonical.str.ends_with("@gmail.com")
        cleaned = local.str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True)
        form = pl.when(gmail).then(cleaned + "@gmail.com").otherwise(canonical)
    else:
        raise OptionError(f"unknown email rule {rule!r}")
    return pl.when(~form.str.starts_with("@")).then(form)


# -- MAID ---------------------------------------------------------------------------


def maid_canonical(expr: pl.Expr) -> pl.Expr:
    """Lowercase 8-4-4-4-12 MAID (hyphens restored on 32 bare hex digits); null if invalid.
    The all-zero MAID is returned as is so the caller can tell zero_maid from invalid."""
    value = trim(expr).str.to_lowercase()
    bare = value.str.contains(r"^[0-9a-f]{32}$")
    value = pl.when(bare).then(uuid_form(value)).otherwise(value)
    return pl.when(value.str.contains(MAID_RE)).then(value)


def uuid_form(hex32: pl.Expr) -> pl.Expr:
    """32 hex digits as 8-4-4-4-12 (the first 32 characters of longer strings)."""
    parts = [(0, 8), (8, 4), (12, 4), (16, 4), (20, 12)]
    return pl.concat_str([hex32.str.slice(a, n) for a, n in parts], separator="-")


# -- phone --------------------------------------------------------------------------


def _alternatives(region: str) -> list[str]:
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None:
        return []
    patterns = []
    for name in _TYPES:
        desc = getattr(meta, name)
        if desc is not None and desc.national_number_pattern:
            patterns.append(desc.national_number_pattern)
    return patterns


@lru_cache(maxsize=64)
def _national_pattern(country_code: int) -> str:
    """phonenumbers' valid national numbers for a country code, as one anchored regex."""
    alts = {
        p
        for r in phonenumbers.region_codes_for_country_code(country_code)
        for p in _alternatives(r)
    }
    # ASCII digits only: Rust's Unicode \d makes the compiled automaton too large.
    body = "|".join(f"(?:{p})" for p in sorted(alts)).replace("\\d", "[0-9]")
    return f"(?:{body})"


@lru_cache(maxsize=1)
def _plus_form_regex() -> str:
    body = "|".join(f"{cc}{_national_pattern(cc)}" for cc in FAST_COUNTRY_CODES)
    return f"^(?:{body})$"


def check_region(region: str) -> str:
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise OptionError(f"unknown phone region {region!r} (use an ISO 3166-1 alpha-2 code)")
    return region


def _fast_e164(frame: pl.DataFrame, region: str) -> pl.Series:
    """E.164 for the shapes the fast path settles exactly as phonenumbers does; else null.
    `frame` has the trimmed raw phone in "raw". Staged columns keep each step computed once."""
    staged = frame.lazy().with_columns(
        pl.col("raw").str.contains(PHONE_SHAPE_RE).alias("_shaped"),
        pl.col("raw").str.replace_all(r"[^0-9]", "").alias("_digits"),
        pl.col("raw").str.starts_with("+").alias("_plus"),
    )
    plus_digits = pl.when(pl.col("_shaped") & pl.col("_plus")).then(pl.col("_digits"))
    exprs = [
        pl.when(plus_digits.str.contains(_plus_form_regex()))
        .then(pl.lit("+") + pl.col("_digits"))
        .alias("_intl")
    ]
    if phonenumbers.country_code_for_region(region) == 1:
        digits = pl.col("_digits")
        national = (
            pl.when(~pl.col("_shaped") | pl.col("_plus"))
            .then(None)
            .when(digits.str.len_bytes() == 10)
            .then(digits)
            .when((digits.str.len_bytes() == 11) & digits.str.starts_with("1"))
            .then(digits.str.slice(1))
        )
        exprs.append(national.alias("_national"))
        staged = staged.with_columns(exprs).with_columns(
            pl.when(pl.col("_national").str.contains(f"^{_national_pattern(1)}$"))
            .then(pl.lit("+1") + pl.col("_national"))
            .otherwise(pl.col("_intl"))
            .alias("_intl")
        )
    else:
        staged = staged.with_columns(exprs)
    return staged.select("_intl").collect().to_series()


def parse_phone(value: str, region: str) -> str | None:
    """Scalar E.164 of one phone number (the library path; also the reference)."""
    number = _parse_valid(value, region)
    if number is None and not value.lstrip(WHITESPACE).startswith("+"):
        digits = re.sub(r"[^0-9]", "", value)
        if digits:
            number = _parse_valid("+" + digits, region)
    return None if number is None else phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse_valid(value: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone_e164(values: pl.Series, region: str) -> pl.Series:
    """E.164 with "+" for a column of raw phones; null where invalid or absent."""
    region = check_region(region)
    frame = pl.DataFrame({"raw": values}).with_columns(trim(pl.col("raw")).alias("raw"))
    frame = frame.with_columns(_fast_e164(frame, region).alias("fast"))
    todo = frame.filter(pl.col("fast").is_null() & (pl.col("raw").str.len_bytes() > 0))
    unique = todo.get_column("raw").unique()
    if len(unique) == 0:
        return frame.get_column("fast").alias(values.name)
    slow = pl.DataFrame(
        {
            "raw": unique,
            "slow": pl.Series([parse_phone(v, region) for v in unique.to_list()], dtype=pl.String),
        }
    )
    joined = frame.join(slow, on="raw", how="left", maintain_order="left")
    return joined.select(pl.coalesce("fast", "slow")).to_series().alias(values.name)


def phone_profile_form(e164: pl.Expr, rule: str) -> pl.Expr:
    if rule == "e164":
        return e164
    if rule == "digits":
        return e164.str.strip_prefix("+")
    raise OptionError(f"unknown phone rule {rule!r}")
