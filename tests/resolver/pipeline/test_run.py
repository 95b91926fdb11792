"""resolve_file: keyed IDs, their scoping per partner and master key, chunking, reports,
and the engine seam (the same stages on a second engine give the same result)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from resolver.keys import KeyRing, decode_person_ids, derived_person_keys
from resolver.pipeline.job import Job, ResolveOptions, Stage
from resolver.pipeline.read import Source, read_chunks
from resolver.pipeline.run import resolve_file
from resolver.pipeline.settle import CHUNK_SCHEMA
from resolver.sample import canonical_identifiers, write_sample
from tests import oracles

ROWS = "email,email_sha256,phone,idfa,segments,action,extra\n"


def _write(path: Path, body: str) -> Path:
    path.write_text(ROWS + body, encoding="utf-8")
    return path


def _resolve(
    path: Path, ring: KeyRing, partner: str = "acme", chunk_rows: int = 400_000
) -> pl.DataFrame:
    options = ResolveOptions(chunk_rows=chunk_rows)
    resolution = resolve_file(path, partner=partner, keyring=ring, options=options)
    return pl.concat(list(resolution.chunks()))


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(bytes(range(32)))


@pytest.fixture
def people(tmp_path: Path) -> Path:
    digest = hashlib.sha256(b"jane@example.com").hexdigest().upper()
    return _write(
        tmp_path / "people.csv",
        " Jane@Example.com,,(415) 555-0100,,a|b,add,x\n"
        f",{digest},,,a,,y\n"
        ",,+44 20 7946 0958,,,,z\n"
        ",,,5F3A2B18-9C4D-4E7F-B8E2-17D3A1E69B25,b,delete,\n"
        "junk,,12,,,,\n"
        ",,,,,,\n"
        "x@y.com,,,,,remove,\n",
    )


def test_chunk_schema_and_reject_reasons(people: Path, ring: KeyRing) -> None:
    out = _resolve(people, ring, chunk_rows=3)
    assert out.schema == pl.Schema(CHUNK_SCHEMA)
    assert out["row"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert out["reject_reason"].to_list() == [
        None,
        None,
        None,
        None,
        "invalid_email",
        "no_identifier",
        "invalid_action",
    ]
    assert out["segments"].to_list() == [["a", "b"], ["a"], [], ["b"], [], [], []]
    assert out["action"].to_list() == ["add", None, None, "delete", None, None, None]
    assert out["person_key"].null_count() == 3


def test_plaintext_and_prehashed_email_give_the_same_person(people: Path, ring: KeyRing) -> None:
    out = _resolve(people, ring)
    assert out["person_id"][0] == out["person_id"][1]
    # Outside a partner's graph a person's key comes from its smallest node key: here
    # the person of row 1 is Jane's email and the phone beside it.
    email = oracles.node_key(ring.node_hmac_key, "email", oracles.sha("jane@example.com"))
    phone = oracles.node_key(ring.node_hmac_key, "phone", oracles.sha("+14155550100"))
    smallest = min(email[:16], phone[:16])
    hi, lo = (np.frombuffer(smallest, dtype=">u8").astype(np.uint64)[i : i + 1] for i in (0, 1))
    expected = derived_person_keys(hi, lo, ring.derived_key_key("acme"))
    assert out["person_key"][0] == expected[0]
    assert out["person_key"][0] not in (email[:16], phone[:16])


def test_ids_are_stable_per_partner_and_scoped(people: Path, ring: KeyRing) -> None:
    first = _resolve(people, ring)["person_id"]
    again = _resolve(people, ring, chunk_rows=2)["person_id"]
    other_partner = _resolve(people, ring, partner="globex")["person_id"]
    other_key = _resolve(people, KeyRing(os.urandom(32)))["person_id"]
    assert first.to_list() == again.to_list()
    valid = first.is_not_null()
    assert not (first.filter(valid) == other_partner.filter(valid)).any()
    assert not (first.filter(valid) == other_key.filter(valid)).any()
    # Nothing links across partners: the person keys behind their IDs differ too.
    mine = decode_person_ids(first.filter(valid), ring.partner_id_key("acme"))
    theirs = decode_person_ids(other_partner.filter(valid), ring.partner_id_key("globex"))
    assert not (mine == theirs).any()


def test_person_ids_hide_the_person_key(people: Path, ring: KeyRing) -> None:
    out = _resolve(people, ring).filter(pl.col("person_key").is_not_null())
    decoded = decode_person_ids(out["person_id"], ring.partner_id_key("acme"))
    assert decoded.to_list() == out["person_key"].to_list()
    assert all(pid.startswith("tp") and len(pid) == 28 for pid in out["person_id"])


def test_outputs_hold_no_plain_sha256_of_identifiers(tmp_path: Path, ring: KeyRing) -> None:
    sample = write_sample(tmp_path / "s.csv", 2000, seed=3)
    out = _resolve(sample, ring)
    exposed = out.select("row", "person_id", "reject_reason", "person_key")
    blob = exposed.select("row", "person_id", "reject_reason").write_csv().encode() + b"".join(
        v for c in ("person_key",) for v in exposed[c].drop_nulls().to_list()
    )
    canon = canonical_identifiers(pl.Series(range(2000)).to_numpy(), 3)
    for value in canon["email"].to_list() + canon["phone"].to_list() + canon["maid"].to_list():
        digest = hashlib.sha256(value.encode())
        assert digest.hexdigest().encode() not in blob
        assert digest.digest() not in blob


def test_report_counts(people: Path, ring: KeyRing) -> None:
    resolution = resolve_file(people, partner="acme", keyring=ring)
    for _ in resolution.chunks():
        pass
    report = resolution.report.to_dict()
    assert report["rows"] == 7
    assert report["resolved"] == 4
    assert report["reject_reasons"] == {"invalid_email": 1, "no_identifier": 1, "invalid_action": 1}
    assert report["distinct_persons"] == 3
    assert report["ignored_columns"] == ["extra"]
    assert report["invalid"]["phone"] == {"invalid_phone": 1}


def test_same_rows_in_every_format(tmp_path: Path, ring: KeyRing) -> None:
    base = write_sample(tmp_path / "s.csv", 3000, seed=5)
    expected = _resolve(base, ring)["person_id"].to_list()
    for name in ("s.tsv", "s.csv.gz", "s.parquet", "s.tsv.gz"):
        other = write_sample(tmp_path / name, 3000, seed=5)
        assert _resolve(other, ring, chunk_rows=700)["person_id"].to_list() == expected, name


class WholeFile:
    """A second engine: the whole file as one frame through the same stages (what a
    cluster engine does per partition, with row numbers from the partition's offset)."""

    def run(self, source: Source, job: Job, stages: Sequence[Stage]) -> Iterator[pl.DataFrame]:
        frame = pl.concat(list(read_chunks(source, job.options.chunk_rows)))
        for stage in stages:
            frame = stage(frame, job, 1)
        yield frame


def test_the_stages_run_the_same_on_another_engine(tmp_path: Path, ring: KeyRing) -> None:
    sample = write_sample(tmp_path / "s.csv", 3000, seed=9)
    options = ResolveOptions(chunk_rows=700)
    local = resolve_file(sample, partner="acme", keyring=ring, options=options)
    other = resolve_file(sample, partner="acme", keyring=ring, options=options, engine=WholeFile())
    assert pl.concat(list(local.chunks())).equals(pl.concat(list(other.chunks())))
    assert other.report.to_dict() | {
        "seconds": 0,
        "rows_per_second": 0,
    } == local.report.to_dict() | {
        "seconds": 0,
        "rows_per_second": 0,
    }
    hashed = resolve_file(sample, partner=None, keyring=None, options=options, engine=WholeFile())
    assert pl.concat(list(hashed.hashed())).height == 3000
