"""Files as partners send them, through the installed `resolver`: delimiters detected,
other formats named, and a bad file is one line."""

from __future__ import annotations

import csv
import gzip
import io
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.support import BIN, clean_env, script


@pytest.mark.parametrize("separator", [";", "|", "\t", ","])
def test_hash_detects_the_delimiter(tmp_path: Path, separator: str) -> None:
    rows = [["email", "phone"], ["a@b.com", "+14155550100"], ["c@d.com", ""]]
    (tmp_path / "in.csv").write_text("\n".join(separator.join(r) for r in rows) + "\n")
    run = script("resolver", "hash", "in.csv", "-o", "out.csv", cwd=tmp_path)
    assert run.code == 0, run
    with (tmp_path / "out.csv").open() as handle:
        out = list(csv.DictReader(handle))
    assert len(out) == 2
    assert all(len(row["email_sha256"]) == 64 for row in out)
    assert len(out[0]["phone_sha256"]) == 64


@pytest.mark.parametrize(
    ("name", "content", "looks"),
    [
        ("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 32, "Excel workbook (.xlsx)"),
        ("rows.jsonl", b'{"email": "a@b.com"}\n', "JSON (or JSON lines)"),
    ],
)
def test_other_formats_are_one_line_saying_what_is_accepted(
    tmp_path: Path, name: str, content: bytes, looks: str
) -> None:
    (tmp_path / name).write_bytes(content)
    run = script("resolver", "hash", name, "-o", "out.csv", cwd=tmp_path)
    assert run.code == 1, run
    line = run.one_line_error
    assert line.startswith(f"Error: {name}: the file looks like")
    assert looks in line
    assert line.endswith("[unsupported_format]")
    assert "a@b.com" not in run.err
    assert not (tmp_path / "out.csv").exists()


def test_serve_takes_a_part_file_renamed_into_place_at_once(tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    assert script("resolver", "init", "--home", home, cwd=tmp_path).code == 0
    assert script("resolver", "partners", "add", "acme", "--home", home, cwd=tmp_path).code == 0
    part = tmp_path / "h" / "inbox" / "acme" / "people.csv.part"
    part.write_text("email\na@b.com\nc@d.com\n")
    time.sleep(0.05)
    part.rename(part.with_name("people.csv"))
    env = {"TESSERA_INBOX__STABLE_SECONDS": "3600"}  # an unmarked file would wait an hour
    run = script("resolver", "serve", "--once", "--home", home, cwd=tmp_path, env=env)
    assert run.code == 0, run
    assert (tmp_path / "h" / "outbox" / "acme" / "people.csv.resolved.csv").is_file()


def _people(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("email,phone\na@b.com,+14155550100\nc@d.com,\n")
    return path


@pytest.mark.parametrize("output", ["in.csv", "./in.csv", "sub/../in.csv"])
def test_an_output_that_is_the_input_is_refused(tmp_path: Path, output: str) -> None:
    before = _people(tmp_path).read_bytes()
    (tmp_path / "sub").mkdir()
    run = script("resolver", "hash", "in.csv", "-o", output, cwd=tmp_path)
    assert run.code == 2, run
    assert "'-o': is the input file" in run.one_line_error
    assert (tmp_path / "in.csv").read_bytes() == before


@pytest.mark.parametrize("output", ["out.xlsx", "out", "out.csv.gz"])
def test_an_unknown_output_extension_is_refused(tmp_path: Path, output: str) -> None:
    _people(tmp_path)
    run = script("resolver", "hash", "in.csv", "-o", output, cwd=tmp_path)
    assert run.code == 2, run
    assert "is not an output format: name it .csv or .parquet" in run.one_line_error
    assert not (tmp_path / output).exists()


def test_dash_reads_standard_input_and_writes_csv_to_standard_output(tmp_path: Path) -> None:
    data = _people(tmp_path).read_bytes()
    piped = subprocess.run(
        [str(BIN / "resolver"), "hash", "-", "-o", "-"],
        input=gzip.compress(data),  # gzip'd, as a pipe from a download would be
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    rows = list(csv.DictReader(io.StringIO(piped.stdout.decode())))
    assert [len(r["email_sha256"]) for r in rows] == [64, 64]
    assert b"valid email" in piped.stderr  # the report goes to stderr, out of the data
    to_file = script("resolver", "hash", "in.csv", "-o", "out.csv", cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text() == piped.stdout.decode(), to_file
