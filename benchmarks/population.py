"""A seeded population with known truth, and the partner files that sample it.

People have one to three emails, zero to two phones and zero to three devices (MAIDs).
Some live in households that share a landline (and, rarely, a family tablet). A partner's
sources each carry a subset of a person's identifiers per row: a CRM export (email,
phone), an app's logins (email, device), a loyalty scheme (phone, device), with lone-phone
and lone-device rows, junk values (test@test.com, 0000000000), shops that type their own
phone for customers, pre-hashed emails, case and spacing noise. `refresh` makes the next
generation of the same population: new people, new devices and emails, people gone.

Everything is numpy and Polars: 20,000 people take well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from resolver.pipeline.hashing import sha256_hex
from resolver.pipeline.normalize import uuid_form
from resolver.sample import DOMAINS, FIRST, LAST, SEGMENTS, US_AREAS

JUNK_EMAILS = ["test@test.com", "none@none.com", "noemail@noemail.com"]
JUNK_PHONES = ["+12222222222", "+19999999999", "+12345678901"]
SOURCES = ("crm", "app", "loyalty")


@dataclass(frozen=True)
class Spec:
    persons: int = 20_000
    seed: int = 11
    emails: tuple[float, ...] = (0.85, 0.12, 0.03)  # P(1, 2, 3 emails)
    phones: tuple[float, ...] = (0.12, 0.73, 0.15)  # P(0, 1, 2 own phones)
    maids: tuple[float, ...] = (0.15, 0.55, 0.25, 0.05)  # P(0..3 devices)
    household: tuple[float, ...] = (0.55, 0.28, 0.12, 0.05)  # P(size 1..4)
    landline: float = 0.3  # share of multi-person households with a shared landline
    tablet: float = 0.1  # ... with a shared family tablet
    primary: float = 0.8  # a row shows a person's first identifier of a kind this often
    junk: float = 0.005  # rows whose email (and, separately, phone) is junk
    shop: float = 0.005  # CRM rows with a shop's phone instead of the customer's
    shops: int = 5
    hashed: float = 0.05  # rows whose email comes pre-hashed


@dataclass(frozen=True)
class Population:
    """owns: (kind, value, person) for every identifier and each person holding it;
    `persons` is the number of person numbers in use (some may have left: `gone`)."""

    spec: Spec
    owns: pl.DataFrame
    persons: int
    gone: frozenset[int] = frozenset()
    generation: int = 0


def population(spec: Spec) -> Population:
    rng = np.random.default_rng(spec.seed)
    owns = _identifiers(rng, spec, np.arange(spec.persons), start=0)
    return Population(spec, owns, spec.persons)


def _counts(rng: np.random.Generator, probs: tuple[float, ...], n: int, low: int) -> np.ndarray:
    return rng.choice(np.arange(low, low + len(probs)), size=n, p=np.asarray(probs))


def _identifiers(
    rng: np.random.Generator, spec: Spec, persons: np.ndarray, start: int
) -> pl.DataFrame:
    """Own emails, phones and MAIDs of `persons`, plus their households' shared ones."""
    n = len(persons)
    frames = []
    for kind, probs, low in (("email", spec.emails, 1), ("phone", spec.phones, 0)):
        counts = _counts(rng, probs, n, low)
        frames.append(_owned(kind, persons, counts, start, rng))
    frames.append(_owned("maid", persons, _counts(rng, spec.maids, n, 0), start, rng))
    frames += _households(rng, spec, persons, start)
    return pl.concat([f.with_columns(pl.col("person", "rank").cast(pl.Int64)) for f in frames])


def _owned(
    kind: str, persons: np.ndarray, counts: np.ndarray, start: int, rng: np.random.Generator
) -> pl.DataFrame:
    owner = np.repeat(persons, counts)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    salt = rng.integers(0, 2**31, len(owner))
    ident = pl.Series(salt).cast(pl.String) + "-" + pl.Series(owner + start).cast(pl.String)
    return pl.DataFrame(
        {"kind": kind, "value": _values(kind, ident), "person": owner, "rank": rank}
    )


def _values(kind: str, ident: pl.Series) -> pl.Series:
    """Canonical values, unique per ident (a hash of it picks names and numbers)."""
    frame = ident.to_frame("i").select(sha256_hex(pl.lit(f"pop-{kind}-") + pl.col("i")).alias("h"))
    number = pl.col("h").str.slice(0, 12).str.to_integer(base=16)
    if kind == "email":
        return frame.select(
            pl.format(
                "{}.{}{}@{}",
                _pick(FIRST, number),
                _pick(LAST, number // 16),
                (number // 256) % 10_000_000,
                _pick(DOMAINS, number // 7),
            )
        ).to_series()
    if kind == "phone":
        line = (number // 13) % 8_000_000 + 2_000_000
        return frame.select(
            pl.format("+1{}{}", _pick(US_AREAS, number), line.cast(pl.String))
        ).to_series()
    return frame.select(uuid_form(pl.col("h").str.slice(0, 32) + "0" * 32)).to_series()


def _pick(options: list[str], number: pl.Expr) -> pl.Expr:
    return number.mod(len(options)).replace_strict(dict(enumerate(options)), return_dtype=pl.String)


def _households(
    rng: np.random.Generator, spec: Spec, persons: np.ndarray, start: int
) -> list[pl.DataFrame]:
    """Shared landlines and tablets: one value held by every member of a household."""
    sizes = _counts(rng, spec.household, len(persons), 1)
    bounds = np.cumsum(sizes)
    sizes = sizes[bounds <= len(persons)]
    home = np.repeat(np.arange(len(sizes)), sizes)
    member = persons[: len(home)]
    multi = np.repeat(sizes > 1, sizes)
    out = []
    for kind, share in (("phone", spec.landline), ("maid", spec.tablet)):
        has = np.repeat(rng.random(len(sizes)) < share, sizes) & multi
        ident = pl.Series(home[has] + start).cast(pl.String) + f"-home-{kind}"
        values = _values(kind, ident)
        out.append(pl.DataFrame({"kind": kind, "value": values, "person": member[has], "rank": 9}))
    return out


def refresh(pop: Population, seed: int, grow: float = 0.03, churn: float = 0.02) -> Population:
    """The next generation: `grow` new people, `churn` people gone, and some people with
    a new device (5%) or a new email (2%)."""
    rng = np.random.default_rng(seed)
    spec = pop.spec
    new = np.arange(pop.persons, pop.persons + int(pop.persons * grow))
    added = [_identifiers(rng, spec, new, start=pop.generation * 10_000_000 + 7)]
    alive = np.setdiff1d(np.arange(pop.persons), np.fromiter(pop.gone, dtype=np.int64))
    for kind, share in (("maid", 0.05), ("email", 0.02)):
        who = alive[rng.random(len(alive)) < share]
        extra = _owned(kind, who, np.ones(len(who), dtype=np.int64), seed * 1000, rng)
        added.append(extra.with_columns(pl.lit(5, pl.Int64).alias("rank")))
    gone = set(pop.gone) | set(alive[rng.random(len(alive)) < churn].tolist())
    owns = pl.concat(
        [pop.owns, *(f.with_columns(pl.col("person", "rank").cast(pl.Int64)) for f in added)]
    )
    return replace(
        pop,
        owns=owns,
        persons=pop.persons + len(new),
        gone=frozenset(gone),
        generation=pop.generation + 1,
    )


@dataclass(frozen=True)
class Source:
    """Who a source holds and which identifiers its rows carry."""

    name: str
    share: float  # people it holds
    extra_rows: float  # mean extra rows per person
    present: dict[str, float]  # per kind: how often a row shows it (when the person has one)


SOURCE_SPECS = {
    "crm": Source("crm", 0.85, 0.2, {"email": 0.95, "phone": 0.85, "maid": 0.25}),
    "app": Source("app", 0.55, 0.6, {"email": 0.9, "phone": 0.4, "maid": 1.0}),
    "loyalty": Source("loyalty", 0.5, 0.1, {"email": 0.5, "phone": 1.0, "maid": 0.4}),
}


def source_rows(pop: Population, source: str, seed: int) -> pl.DataFrame:
    """One source's rows: truth (the person), email, phone, maid (canonical values, null
    where the row has none) and segments (the person's interests)."""
    spec, src = pop.spec, SOURCE_SPECS[source]
    rng = np.random.default_rng(seed)
    alive = np.setdiff1d(np.arange(pop.persons), np.fromiter(pop.gone, dtype=np.int64))
    held = alive[rng.random(len(alive)) < src.share]
    truth = np.repeat(held, 1 + rng.poisson(src.extra_rows, len(held)))
    rng.shuffle(truth)
    frame = pl.DataFrame({"truth": truth})
    for kind in ("email", "phone", "maid"):
        picked = _choose(pop, kind, truth, rng, spec.primary)
        shown = rng.random(len(truth)) < src.present[kind]
        frame = frame.with_columns(pl.when(pl.Series(shown)).then(picked).alias(kind))
    frame = _noise(frame, rng, spec, source)
    return frame.with_columns(_interests(truth, spec.seed).alias("segments"))


def _choose(
    pop: Population, kind: str, truth: np.ndarray, rng: np.random.Generator, primary: float
) -> pl.Series:
    """Per row, one of the person's identifiers of `kind` (the first one `primary` of the
    time), or null when they have none."""
    mine = pop.owns.filter(pl.col("kind") == kind).sort("person", "rank", maintain_order=True)
    person = mine.get_column("person").to_numpy()
    size = pop.persons
    count = np.bincount(person, minlength=size)
    start = np.cumsum(count) - count
    n = count[truth]
    pick = np.where(rng.random(len(truth)) < primary, 0, (rng.random(len(truth)) * n).astype(int))
    index = np.where(n > 0, start[truth] + np.minimum(pick, np.maximum(n - 1, 0)), 0)
    values = mine.get_column("value")
    if values.is_empty():
        return pl.Series(kind, [None] * len(truth), dtype=pl.String)
    chosen = values.gather(pl.Series(index))
    return pl.select(pl.when(pl.Series(n > 0)).then(chosen)).to_series().alias(kind)


def _noise(frame: pl.DataFrame, rng: np.random.Generator, spec: Spec, source: str) -> pl.DataFrame:
    """Junk emails and phones, and (CRM) a shop's phone typed for the customer."""
    n = frame.height
    junk_email = pl.Series(np.asarray(JUNK_EMAILS)[rng.integers(0, len(JUNK_EMAILS), n)])
    junk_phone = pl.Series(np.asarray(JUNK_PHONES)[rng.integers(0, len(JUNK_PHONES), n)])
    shop = pl.Series(rng.integers(0, spec.shops, n)).cast(pl.String)
    shop_phone = pl.lit("+1415") + (pl.lit(5_550_000) + shop.cast(pl.Int64)).cast(pl.String)
    roll = [pl.Series(rng.random(n)) for _ in range(3)]
    shop_share = spec.shop if source == "crm" else 0.0
    return frame.with_columns(
        pl.when(pl.col("email").is_not_null() & (roll[0] < spec.junk))
        .then(junk_email)
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(pl.col("phone").is_not_null() & (roll[1] < spec.junk))
        .then(junk_phone)
        .when(pl.col("phone").is_not_null() & (roll[2] < shop_share))
        .then(shop_phone)
        .otherwise(pl.col("phone"))
        .alias("phone"),
    )


def _interests(truth: np.ndarray, seed: int) -> pl.Series:
    """A person's segments: one or two, the same in every source."""
    mix = (truth.astype(np.uint64) * np.uint64(2654435761) + np.uint64(seed)) % np.uint64(2**32)
    mix = mix.astype(np.int64)
    first = np.asarray(SEGMENTS, dtype=object)[mix % len(SEGMENTS)]
    second = np.asarray(SEGMENTS, dtype=object)[(mix // 8) % len(SEGMENTS)]
    both = (mix // 64) % 3 == 0
    joined = np.where(both & (first != second), first + "|" + second, first)
    return pl.Series("segments", joined, dtype=pl.String)


def render(rows: pl.DataFrame, seed: int, hashed: float = 0.05) -> pl.DataFrame:
    """A source's rows as a partner file writes them: emails in mixed case with stray
    spaces (some only as SHA-256), US phones in their usual shapes, MAIDs in either case,
    and the truth column dropped. Columns: email, email_sha256, phone, idfa, segments."""
    rng = np.random.default_rng(seed)
    n = rows.height
    roll = [pl.Series(rng.random(n)) for _ in range(4)]
    email, phone, maid = pl.col("email"), pl.col("phone"), pl.col("maid")
    digits = phone.str.slice(2)
    a, x, line = digits.str.slice(0, 3), digits.str.slice(3, 3), digits.str.slice(6, 4)
    return rows.select(
        pl.when(roll[0] < hashed)
        .then(None)
        .when(roll[0] < 0.15)
        .then(email.str.to_uppercase())
        .when(roll[0] < 0.2)
        .then(pl.lit("  ") + email + pl.lit(" "))
        .otherwise(email)
        .alias("email"),
        pl.when(roll[0] < hashed).then(sha256_hex(email)).alias("email_sha256"),
        pl.when(roll[1] < 0.35)
        .then(pl.format("({}) {}-{}", a, x, line))
        .when(roll[1] < 0.6)
        .then(pl.format("{}-{}-{}", a, x, line))
        .when(roll[1] < 0.8)
        .then(pl.format("+1 {} {} {}", a, x, line))
        .otherwise(phone)
        .alias("phone"),
        pl.when(roll[2] < 0.4).then(maid.str.to_uppercase()).otherwise(maid).alias("idfa"),
        pl.col("segments"),
    )
