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

`prepare()` turns the identifier columns of a frame into node hashes (SHA-256 of the
canonical form), match keys (SHA-256 of a destination profile's form) and reject codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata, PhoneNumberFormat

from resolver import kinds as k
from resolver.hashing import sha256_hex, valid_sha256
from resolver.profiles import Profile, get_profile

# ASCII whitespace only: the same set in Polars and in the scalar reference.
WHITESPACE = " \t\r\n\x0b\x0c"
EMAIL_RE = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
MAID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ZERO_MAID = "00000000-0000-0000-0000-000000000000"
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
        raise ValueError(f"unknown email rule {rule!r}")
    return pl.when(~form.str.starts_with("@")).then(form)


# -- MAID ---------------------------------------------------------------------------


def maid_canonical(expr: pl.Expr) -> pl.Expr:
    """Lowercase 8-4-4-4-12 MAID (hyphens restored on 32 bare hex digits); null if invalid.
    The all-zero MAID is returned as is so the caller can tell zero_maid from invalid."""
    value = trim(expr).str.to_lowercase()
    bare = value.str.contains(r"^[0-9a-f]{32}$")
    hyphenated = pl.concat_str(
        [
            value.str.slice(0, 8),
            value.str.slice(8, 4),
            value.str.slice(12, 4),
            value.str.slice(16, 4),
            value.str.slice(20, 12),
        ],
        separator="-",
    )
    value = pl.when(bare).then(hyphenated).otherwise(value)
    return pl.when(value.str.contains(MAID_RE)).then(value)


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
        raise ValueError(f"unknown phone region {region!r} (use an ISO 3166-1 alpha-2 code)")
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
    raise ValueError(f"unknown phone rule {rule!r}")


# -- prepare ------------------------------------------------------------------------


def _present(name: str) -> pl.Expr:
    return trim(pl.col(name)).str.len_bytes().fill_null(0) > 0


def prepare(
    df: pl.DataFrame,
    columns: Mapping[str, str],
    *,
    region: str,
    profile: str = "tiktok",
    nodes: bool = True,
    person: bool = False,
) -> pl.DataFrame:
    """Node hashes, match keys and reject codes for each row of `df` (contract C1).

    `columns` maps input kinds to source column names. The result has the same rows, in
    order, and the columns of `kinds.PREPARED_COLUMNS`. The work is staged in passes
    (canonical forms, hashes, combination) so nothing is computed twice.

    With `nodes=False` the node columns stay null (match keys only, half the hashing).
    With `person=True` only the row's person node is hashed: two more columns,
    `person_node` (hex SHA-256 of the highest-priority usable identifier, email, phone then
    MAID) and `person_family`, and the per-family node columns stay null."""
    spec = get_profile(profile)
    region = check_region(region)
    work = df.select([pl.col(name).cast(pl.String).alias(kind) for kind, name in columns.items()])
    if k.PHONE in columns:
        work = work.with_columns(phone_e164(work.get_column(k.PHONE), region).alias("_phone_c"))
    maids = [kind for kind in k.MAID_KINDS if kind in columns]
    present = {"email": k.EMAIL in columns, "phone": k.PHONE in columns, "maid": bool(maids)}
    canonical = [
        *_email_stage(columns, spec),
        *_phone_stage(columns, spec),
        *_maid_stage(maids, spec),
    ]
    chosen = _chosen_family(columns, maids)
    hashes = [
        sha256_hex(_node_source(fam, part, person)).alias(f"_{fam}_{part}_h")
        for fam in k.FAMILIES
        if present[fam]
        for part in (("c", "form") if nodes or person else ("form",))
    ]
    combined = [
        *_combine(
            "email", present["email"], k.INVALID_EMAIL, k.EMAIL_SHA256 in columns, nodes or person
        ),
        *_combine(
            "phone", present["phone"], k.INVALID_PHONE, k.PHONE_SHA256 in columns, nodes or person
        ),
        *_maid_combine(maids, nodes or person),
    ]
    lazy = (
        work.lazy()
        .with_columns(_first_stage(columns, maids))
        .with_columns(canonical)
        .with_columns(_forms_stage(maids, spec))
        .with_columns(chosen)
        .with_columns(hashes)
        .with_columns(combined)
    )
    if not person:
        return lazy.select(k.PREPARED_COLUMNS).collect()
    person_node = pl.coalesce(
        *(pl.when(pl.col("_chosen") == fam).then(pl.col(f"{fam}_node")) for fam in k.FAMILIES)
    )
    return lazy.select(
        *(
            pl.lit(None, dtype=pl.String).alias(c) if c in k.NODE_COLUMNS else pl.col(c)
            for c in k.PREPARED_COLUMNS
        ),
        person_node.alias("person_node"),
        pl.col("_chosen").alias("person_family"),
    ).collect()


def _chosen_family(columns: Mapping[str, str], maids: list[str]) -> pl.Expr:
    """The highest-priority family with a usable identifier on each row."""
    usable = {
        "email": [
            f"_email_{p}"
            for p, kind in (("c", k.EMAIL), ("pre", k.EMAIL_SHA256))
            if kind in columns
        ],
        "phone": [
            f"_phone_{p}"
            for p, kind in (("c", k.PHONE), ("pre", k.PHONE_SHA256))
            if kind in columns
        ],
        "maid": ["_maid_c"] if maids else [],
    }
    chosen: pl.Expr = pl.lit(None, dtype=pl.String)
    for fam in reversed(k.FAMILIES):
        if usable[fam]:
            ok = pl.any_horizontal([pl.col(c).is_not_null() for c in usable[fam]])
            chosen = pl.when(ok).then(pl.lit(fam)).otherwise(chosen)
    return chosen.alias("_chosen")


def _node_source(family: str, part: str, person: bool) -> pl.Expr:
    """What to hash: in person mode a canonical value only where its family is chosen."""
    column = pl.col(f"_{family}_{part}")
    if person and part == "c":
        return pl.when(pl.col("_chosen") == family).then(column)
    return column


def _null() -> pl.Expr:
    return pl.lit(None, dtype=pl.String)


def _email_stage(columns: Mapping[str, str], spec: Profile) -> list[pl.Expr]:
    out = []
    if k.EMAIL in columns:
        canonical = pl.col("_email_lc")
        form = email_profile_form(canonical, spec.email)
        # A canonical email whose profile form is empty (e.g. "+tag@x.com") is unusable.
        out += [
            pl.when(form.is_not_null()).then(canonical).alias("_email_c"),
            form.alias("_email_form"),
        ]
    if k.EMAIL_SHA256 in columns:
        out.append(valid_sha256(pl.col(k.EMAIL_SHA256)).alias("_email_pre"))
    return out


def _phone_stage(columns: Mapping[str, str], spec: Profile) -> list[pl.Expr]:
    out = []
    if k.PHONE in columns:
        out.append(phone_profile_form(pl.col("_phone_c"), spec.phone).alias("_phone_form"))
    if k.PHONE_SHA256 in columns:
        out.append(valid_sha256(pl.col(k.PHONE_SHA256)).alias("_phone_pre"))
    return out


def _combine(
    family: str, plain: bool, plain_error: str, hashed: bool, nodes: bool
) -> list[pl.Expr]:
    """Plaintext wins when valid, then the pre-hashed value; errors only when neither is."""
    node: pl.Expr = _null()
    match: pl.Expr = _null()
    error: pl.Expr = _null()
    source = k.EMAIL_SHA256 if family == "email" else k.PHONE_SHA256
    if hashed:
        pre = pl.col(f"_{family}_pre")
        node, match = pre, pre
        error = pl.when(_present(source) & pre.is_null()).then(pl.lit(k.INVALID_HASH))
    if plain:
        valid = pl.col(f"_{family}_c").is_not_null()
        plain_node = pl.col(f"_{family}_c_h") if nodes else _null()
        node = pl.when(valid).then(plain_node).otherwise(node)
        match = pl.when(valid).then(pl.col(f"_{family}_form_h")).otherwise(match)
        plain_bad = _present(family) & ~valid
        usable = valid | pl.col(f"_{family}_pre").is_not_null() if hashed else valid
        error = (
            pl.when(usable).then(_null()).when(plain_bad).then(pl.lit(plain_error)).otherwise(error)
        )
    return [
        node.alias(f"{family}_node"),
        match.alias(f"{family}_sha256"),
        error.alias(f"{family}_error"),
    ]


def _maid_stage(present: list[str], spec: Profile) -> list[pl.Expr]:
    if not present:
        return []
    canon = {kind: pl.col(f"_maid_{kind}") for kind in present}
    usable = {kind: canon[kind].is_not_null() & (canon[kind] != ZERO_MAID) for kind in present}
    value: pl.Expr = _null()
    mtype: pl.Expr = _null()
    for kind in reversed(present):  # the first usable column in MAID_KINDS order wins
        label = _null() if kind == k.MAID else pl.lit(kind)
        value = pl.when(usable[kind]).then(canon[kind]).otherwise(value)
        mtype = pl.when(usable[kind]).then(label).otherwise(mtype)
    any_zero = pl.any_horizontal([(canon[kind] == ZERO_MAID).fill_null(False) for kind in present])
    return [value.alias("_maid_c"), mtype.alias("maid_type"), any_zero.alias("_maid_zero")]


def _first_stage(columns: Mapping[str, str], maids: list[str]) -> list[pl.Expr]:
    """Per-column canonical values, computed once and referenced by later stages."""
    out = [maid_canonical(pl.col(kind)).alias(f"_maid_{kind}") for kind in maids]
    if k.EMAIL in columns:
        out.append(email_canonical(pl.col(k.EMAIL)).alias("_email_lc"))
    return out


def _forms_stage(maids: list[str], spec: Profile) -> list[pl.Expr]:
    if not maids:
        return []
    value = pl.col("_maid_c")
    return [(value.str.to_uppercase() if spec.maid == "upper" else value).alias("_maid_form")]


def _maid_combine(present: list[str], nodes: bool) -> list[pl.Expr]:
    if not present:
        return [_null().alias(c) for c in ("maid_node", "maid_sha256", "maid_type", "maid_error")]
    any_given = pl.any_horizontal([_present(kind) for kind in present])
    error = (
        pl.when(pl.col("_maid_c").is_not_null())
        .then(_null())
        .when(pl.col("_maid_zero"))
        .then(pl.lit(k.ZERO_MAID))
        .when(any_given)
        .then(pl.lit(k.INVALID_MAID))
    )
    node = pl.col("_maid_c_h") if nodes else _null()
    return [
        node.alias("maid_node"),
        pl.col("_maid_form_h").alias("maid_sha256"),
        error.alias("maid_error"),
    ]
