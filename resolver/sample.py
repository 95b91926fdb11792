"""A seeded generator of realistic, dirty partner files (for the demo, tests, benchmarks).

Person i has canonical identifiers that depend only on (i, seed): an email
`<first>.<last><i>@<domain>`, a phone and a MAID. Each row shows one person's identifiers
the way partner files do: mixed case, stray spaces, `+tags`, US phones in many shapes and
international ones, upper- and lowercase MAIDs, zero MAIDs (limited ad tracking), junk,
empty cells, some emails only as SHA-256, and `|`-separated segments. Everything is
vectorized (numpy + Polars), so 10M rows take seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from resolver.kinds import ALL_ZERO_MAID
from resolver.pipeline.hashing import sha256_hex
from resolver.pipeline.normalize import uuid_form
from resolver.state.atomic import atomic_file

FIRST = [
    "james",
    "mary",
    "john",
    "patricia",
    "robert",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "maria",
    "chen",
    "aisha",
    "jose",
    "olga",
    "kenji",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "nguyen",
    "kim",
    "okafor",
    "silva",
    "novak",
    "tanaka",
]
DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "hotmail.com",
    "example.org",
    "proton.me",
    "fastmail.com",
]
US_AREAS = [
    "201",
    "212",
    "213",
    "305",
    "312",
    "404",
    "415",
    "512",
    "617",
    "650",
    "702",
    "713",
    "818",
    "917",
    "206",
    "303",
]
SEGMENTS = ["sports fans", "new parents", "auto intenders", "travel", "gamers"]


def _pick(rng: np.random.Generator, options: list[str], n: int) -> pl.Series:
    return pl.Series(
        np.asarray(options, dtype=object)[rng.integers(0, len(options), n)], dtype=pl.String
    )


def canonical_identifiers(persons: np.ndarray, seed: int = 7) -> pl.DataFrame:
    """Canonical email, E.164 phone (US) and MAID for person numbers (deterministic)."""
    parts = _parts(persons, seed)
    maid_hex = sha256_hex(pl.format("maid-{}-{}", pl.col("p"), pl.lit(seed)))
    return parts.select(
        pl.format("{}.{}{}@{}", "first", "last", "p", "domain").alias("email"),
        pl.format(
            "+1{}{}{}",
            "area",
            pl.col("exchange").cast(pl.String),
            pl.col("line").cast(pl.String).str.zfill(4),
        ).alias("phone"),
        uuid_form(maid_hex).alias("maid"),
    )


def _parts(persons: np.ndarray, seed: int) -> pl.DataFrame:
    """Each person's name, domain and phone parts, picked by a multiplicative hash."""
    mix = (
        (persons.astype(np.uint64) * np.uint64(2654435761) + np.uint64(seed)) % np.uint64(2**32)
    ).astype(np.int64)
    text = {
        "first": np.asarray(FIRST, dtype=object)[mix % len(FIRST)],
        "last": np.asarray(LAST, dtype=object)[(mix // 16) % len(LAST)],
        "domain": np.asarray(DOMAINS, dtype=object)[(mix // 256) % len(DOMAINS)],
        "area": np.asarray(US_AREAS, dtype=object)[(mix // 4096) % len(US_AREAS)],
    }
    return pl.DataFrame(
        {
            "p": pl.Series("p", persons.astype(np.int64)),
            **text,
            "exchange": 200 + (mix // 7) % 800,
            "line": (persons * 7919 + seed) % 10000,
        },
        schema_overrides=dict.fromkeys(text, pl.String),
    )


def _messy_email(rng: np.random.Generator, email: pl.Series) -> pl.Series:
    n = len(email)
    roll = rng.random(n)
    frame = pl.DataFrame({"e": email, "r": roll, "tag": _pick(rng, ["news", "promo", "x1"], n)})
    e, r = pl.col("e"), pl.col("r")
    local, domain = e.str.extract(r"^([^@]+)@", 1), e.str.extract(r"@(.+)$", 1)
    return frame.select(
        pl.when(r < 0.05)
        .then(pl.lit(""))
        .when(r < 0.06)
        .then(pl.lit("not-an-email"))
        .when(r < 0.09)
        .then(pl.format("{}+{}@{}", local, "tag", domain))
        .when(r < 0.22)
        .then(e.str.to_uppercase())
        .when(r < 0.30)
        .then(pl.format("  {} ", e.str.to_titlecase()))
        .otherwise(e)
    ).to_series()


INTERNATIONAL = [
    "+44 20 7946 0{}",
    "+33 1 42 68 5{}",
    "+91 98200 01{}",
    "+49 30 901820{}",
    "0044 161 496 0{}",
    "+61 2 9374 4{}",
]


def _messy_phone(rng: np.random.Generator, phone: pl.Series) -> pl.Series:
    n = len(phone)
    roll = rng.random(n)
    shape = rng.integers(0, 8, n)
    intl = _pick(rng, INTERNATIONAL, n)
    tail = pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3)
    frame = pl.DataFrame({"ph": phone, "r": roll, "s": shape, "intl": intl, "t": tail})
    r = pl.col("r")
    return frame.select(
        pl.when(r < 0.06)
        .then(pl.lit(""))
        .when(r < 0.07)
        .then(pl.lit("call me"))
        .when(r < 0.20)
        .then(pl.col("intl").str.replace("{}", pl.col("t"), literal=True))
        .otherwise(_us_shapes())
    ).to_series()


def _us_shapes() -> pl.Expr:
    """A US phone ("ph", +1 and 10 digits) written in shape "s" of eight common ones."""
    d = pl.col("ph").str.slice(2)
    a, x, ln = d.str.slice(0, 3), d.str.slice(3, 3), d.str.slice(6, 4)
    shapes = [
        pl.format("({}) {}-{}", a, x, ln),
        pl.format("{}-{}-{}", a, x, ln),
        pl.format("{}.{}.{}", a, x, ln),
        pl.format("+1 {} {} {}", a, x, ln),
        pl.format("1{}", d),
        pl.format("1-{}-{}-{}", a, x, ln),
        pl.col("ph"),
    ]
    written: pl.Expr = d
    for number, shape in reversed(list(enumerate(shapes))):
        written = pl.when(pl.col("s") == number).then(shape).otherwise(written)
    return written


def _messy_maid(rng: np.random.Generator, maid: pl.Series) -> pl.Series:
    roll = pl.Series(rng.random(len(maid)))
    frame = pl.DataFrame({"m": maid, "r": roll})
    r = pl.col("r")
    return frame.select(
        pl.when(r < 0.10)
        .then(pl.lit(""))
        .when(r < 0.13)
        .then(pl.lit(ALL_ZERO_MAID))
        .when(r < 0.14)
        .then(pl.lit("unknown"))
        .when(r < 0.55)
        .then(pl.col("m").str.to_uppercase())
        .otherwise(pl.col("m"))
    ).to_series()


def sample_frame(
    rows: int,
    seed: int = 7,
    persons: int | None = None,
    segments: bool = True,
    prehashed: bool = True,
) -> pl.DataFrame:
    """A dirty partner frame: email, email_sha256, phone, idfa, segments."""
    rng = np.random.default_rng(seed)
    population = persons or max(rows * 4 // 5, 1)
    who = rng.integers(0, population, rows)
    canon = canonical_identifiers(who, seed)
    hashed_only = rng.random(rows) < (0.08 if prehashed else 0.0)
    base = pl.DataFrame(
        {
            "email": _messy_email(rng, canon.get_column("email")),
            "canon": canon.get_column("email"),
            "hashed": hashed_only,
        }
    )
    frame = base.select(
        pl.when("hashed").then(pl.lit("")).otherwise("email").alias("email"),
        pl.when("hashed")
        .then(sha256_hex(pl.col("canon")))
        .otherwise(pl.lit(""))
        .alias("email_sha256"),
    ).with_columns(
        _messy_phone(rng, canon.get_column("phone")).alias("phone"),
        _messy_maid(rng, canon.get_column("maid")).alias("idfa"),
    )
    if not prehashed:
        frame = frame.drop("email_sha256")
    if segments:
        seg_a = _pick(rng, SEGMENTS, rows)
        seg_b = _pick(rng, SEGMENTS, rows)
        both = pl.Series(rng.random(rows) < 0.3)
        frame = frame.with_columns(
            pl.when(both).then(seg_a + "|" + seg_b).otherwise(seg_a).alias("segments")
        )
    return frame


def write_sample(
    path: Path, rows: int, seed: int = 7, fmt: str | None = None, **options: bool | int | None
) -> Path:
    """Write a sample file; the format follows the name (.csv, .tsv, .csv.gz, .parquet)."""
    frame = sample_frame(rows, seed, **options)  # type: ignore[arg-type]
    name = path.name.lower()
    fmt = fmt or ("parquet" if name.endswith(".parquet") else "tsv" if ".tsv" in name else "csv")
    with atomic_file(path) as handle:
        if fmt == "parquet":
            frame.write_parquet(handle)
        elif name.endswith(".gz"):
            frame.write_csv(
                handle,
                separator="\t" if fmt == "tsv" else ",",
                compression="gzip",
                check_extension=False,
            )
        else:
            frame.write_csv(handle, separator="\t" if fmt == "tsv" else ",")
    return path
