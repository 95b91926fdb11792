"""Normalization: published vectors per profile, reject codes, and properties against the
scalar oracle (tests/oracles.py)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolver import kinds as k
from resolver.errors import OptionError
from resolver.pipeline.normalize import email_canonical, maid_canonical, phone_e164
from resolver.pipeline.prepare import prepare
from resolver.pipeline.profiles import PROFILES
from tests import oracles
from tests.strategies import EMAILS, MAIDS, PHONES, PREHASHED

VECTORS = Path(__file__).parents[2] / "vectors"


def _rows(name: str) -> list[dict[str, str]]:
    with (VECTORS / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


FAMILY = {"email": "email", "phone": "phone", "maid": "maid", "email_sha256": "email"}


@pytest.mark.parametrize("vector", _rows("normalization.csv"), ids=lambda v: v["id"])
def test_published_vectors(vector: dict[str, str]) -> None:
    kind = vector["kind"]
    kind_column = k.IDFA if kind == "maid" else kind
    out = prepare(
        pl.DataFrame({"x": [vector["input"]]}),
        {kind_column: "x"},
        region=vector["region"],
        profile=vector["profile"],
    )
    family = FAMILY[kind]
    expected = hashlib.sha256(vector["expected_form"].encode()).hexdigest()
    assert out[f"{family}_sha256"][0] == expected
    if vector["expected_sha256"]:
        assert out[f"{family}_sha256"][0] == vector["expected_sha256"]
    assert out[f"{family}_error"][0] is None


@pytest.mark.parametrize("vector", _rows("rejects.csv"), ids=lambda v: f"{v['kind']}:{v['input']}")
def test_reject_codes(vector: dict[str, str]) -> None:
    kind = vector["kind"]
    kind_column = k.IDFA if kind == "maid" else kind
    out = prepare(pl.DataFrame({"x": [vector["input"]]}), {kind_column: "x"}, region="US")
    family = FAMILY[kind]
    expected = None if vector["code"] == "none" else vector["code"]
    assert out[f"{family}_error"][0] == expected
    assert out[f"{family}_sha256"][0] is None


def test_every_profile_has_a_vector() -> None:
    covered = {row["profile"] for row in _rows("normalization.csv")}
    assert covered == set(PROFILES)


def test_plaintext_and_prehashed_email_meet() -> None:
    frame = pl.DataFrame(
        {
            "e": [" Foo@Bar.com", ""],
            "h": ["", "0C7E6A405862E402EB76A70F8A26FC732D07C32931E9FAE9AB1582911D2E8A3B"],
        }
    )
    out = prepare(frame, {k.EMAIL: "e", k.EMAIL_SHA256: "h"}, region="US", profile="e164")
    assert out["email_node"][0] == out["email_node"][1]
    assert out["email_sha256"][0] == out["email_sha256"][1]


def test_plaintext_wins_and_invalid_plaintext_falls_back_to_hash() -> None:
    digest = hashlib.sha256(b"x@y.com").hexdigest()
    frame = pl.DataFrame({"e": ["a@b.com", "bad@", "bad@"], "h": [digest, digest, "zz"]})
    out = prepare(frame, {k.EMAIL: "e", k.EMAIL_SHA256: "h"}, region="US")
    assert out["email_node"].to_list() == [oracles.sha("a@b.com"), digest, None]
    assert out["email_error"].to_list() == [None, None, k.INVALID_EMAIL]


def test_maid_columns_first_usable_wins_and_types() -> None:
    frame = pl.DataFrame(
        {
            "i": ["00000000-0000-0000-0000-000000000000", "", "junk"],
            "g": ["38400000-8cf0-11bd-b23e-10b96e40000d", "", ""],
            "m": ["", "5F3A2B189C4D4E7FB8E217D3A1E69B25", ""],
        }
    )
    out = prepare(frame, {k.IDFA: "i", k.GAID: "g", k.MAID: "m"}, region="US")
    assert out["maid_type"].to_list() == ["gaid", None, None]
    assert out["maid_sha256"][1] == oracles.sha("5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25")
    assert out["maid_error"].to_list() == [None, None, k.INVALID_MAID]


def test_unknown_region_and_profile_are_errors() -> None:
    frame = pl.DataFrame({"p": ["1"]})
    with pytest.raises(OptionError, match="region"):
        prepare(frame, {k.PHONE: "p"}, region="XX")
    with pytest.raises(OptionError, match="profile"):
        prepare(frame, {k.PHONE: "p"}, region="US", profile="nope")


# -- properties ------------------------------------------------------------------------


@given(st.lists(EMAILS, min_size=1, max_size=40))
def test_email_matches_oracle_and_is_idempotent(values: list[str]) -> None:
    series = pl.Series("e", values, dtype=pl.String)
    once = pl.select(email_canonical(pl.lit(series))).to_series()
    assert once.to_list() == [oracles.email(v) for v in values]
    twice = pl.select(email_canonical(pl.lit(once))).to_series()
    assert twice.to_list() == once.to_list()
    for name, profile in PROFILES.items():
        out = prepare(series.to_frame(), {k.EMAIL: "e"}, region="US", profile=name)
        expected = [
            oracles.sha(oracles.email_form(oracles.email(v), profile.email)) for v in values
        ]
        assert out["email_sha256"].to_list() == expected


@given(st.lists(PHONES, min_size=1, max_size=40), st.sampled_from(["US", "GB", "CA", "FR"]))
def test_phone_fast_path_agrees_with_library(values: list[str], region: str) -> None:
    series = pl.Series("p", values, dtype=pl.String)
    got = phone_e164(series, region).to_list()
    assert got == [oracles.phone(v, region) for v in values]
    again = phone_e164(pl.Series("p", got, dtype=pl.String), region).to_list()
    assert again == got


@given(st.lists(MAIDS, min_size=1, max_size=40))
def test_maid_matches_oracle_and_is_idempotent(values: list[str]) -> None:
    series = pl.Series("m", values, dtype=pl.String)
    once = pl.select(maid_canonical(pl.lit(series))).to_series()
    assert once.to_list() == [oracles.maid(v) for v in values]
    assert pl.select(maid_canonical(pl.lit(once))).to_series().to_list() == once.to_list()


@given(st.lists(PREHASHED, min_size=1, max_size=30))
def test_prehashed_matches_oracle(values: list[str]) -> None:
    out = prepare(pl.DataFrame({"h": values}), {k.EMAIL_SHA256: "h"}, region="US")
    assert out["email_sha256"].to_list() == [oracles.prehashed(v) for v in values]
