"""Input reading: formats and dialects accepted, malformed files refused with the file,
line and column, and never a value."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver.errors import InputError
from resolver.keys import KeyRing
from resolver.pipeline.job import ResolveOptions
from resolver.pipeline.read import ReadLimits
from resolver.pipeline.run import resolve_file
from resolver.pipeline.streams import prefetch

SECRET = "secret.person@example.com"


def _collect(path: Path, options: ResolveOptions | None = None) -> int:
    resolution = resolve_file(path, partner="p", keyring=KeyRing(b"k" * 32), options=options)
    return sum(len(c) for c in resolution.chunks())


def test_bom_crlf_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'\xef\xbb\xbfE-Mail,"Phone Number"\r\n"a@b.com","(415) 555-0100"\r\n"c,d@x.com",1\r\n'
    )
    resolution = resolve_file(path, partner="p", keyring=KeyRing(b"k" * 32))
    assert resolution.columns == {"email": "E-Mail", "phone": "Phone Number"}
    assert sum(len(c) for c in resolution.chunks()) == 2


def test_partner_aliases(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("courriel,tel\na@b.com,1\n")
    options = ResolveOptions(aliases={"courriel": "email"})
    resolution = resolve_file(path, partner="p", keyring=KeyRing(b"k" * 32), options=options)
    assert resolution.columns == {"email": "courriel", "phone": "tel"}


BAD_FILES = {
    "no_identifier_column": (b"name,city\nann,paris\n", 1, None),
    "ragged_more": (f"email,phone\na@b.com,1\n{SECRET},2,3\n".encode(), 3, 3),
    "ragged_fewer": (f"email,phone\na@b.com,1\n{SECRET}\n".encode(), 3, 2),
    "invalid_utf8": (f"email\na@b.com\n{SECRET}\xff\n".encode("latin-1"), 3, None),
    "line_too_long": (f"email\na@b.com\n{'x' * 70000}{SECRET}\n".encode(), 3, None),
    "empty_file": (b"", None, None),
    "duplicate_column": (b"email,Email\na@b.com,c@d.com\n", 1, 2),
}
CODES = {"ragged_more": "ragged_row", "ragged_fewer": "ragged_row"}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_malformed_files_name_line_and_column_not_values(tmp_path: Path, name: str) -> None:
    content, line, column = BAD_FILES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        _collect(path)
    error = info.value
    assert error.code == CODES.get(name, name)
    assert error.line == line
    assert error.column == column
    assert SECRET not in str(error)
    assert path.name in str(error)


def test_corrupt_gzip_and_parquet(tmp_path: Path) -> None:
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(gzip.compress(b"email\na@b.com\n")[:-12])
    with pytest.raises(InputError, match="gzip"):
        _collect(gz)
    pq = tmp_path / "x.parquet"
    pq.write_bytes(b"PAR1" + b"\0" * 64)
    with pytest.raises(InputError) as info:
        _collect(pq)
    assert info.value.code == "unreadable"


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"email\n" + b"a" * 5_000_000))
    with pytest.raises(InputError) as info:
        _collect(bomb, ResolveOptions(limits=ReadLimits(max_compression_ratio=100)))
    assert info.value.code == "decompression_bomb"
    assert list(tmp_path.iterdir()) == [bomb]  # the decompressed copy is gone


def test_headerless_file_does_not_leak_values(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(f"{SECRET},4155550100\nb@c.com,1\n")
    with pytest.raises(InputError) as info:
        _collect(path)
    assert SECRET not in str(info.value)
    assert info.value.code == "no_identifier_column"


def test_prefetch_keeps_order_raises_in_order_and_stops_early() -> None:
    import polars as pl

    def chunks(fail_after: int | None) -> Iterator[pl.DataFrame]:
        for n in range(5):
            if fail_after is not None and n == fail_after:
                raise ValueError("broken at chunk 3")
            yield pl.DataFrame({"n": [n]})

    assert [c.item() for c in prefetch(chunks(None))] == [0, 1, 2, 3, 4]
    seen: list[int] = []

    def drain() -> None:
        seen.extend(chunk.item() for chunk in prefetch(chunks(3)))

    with pytest.raises(ValueError, match="chunk 3"):
        drain()
    assert seen == [0, 1, 2]
    stream = prefetch(chunks(None))
    assert next(stream).item() == 0
    stream.close()  # the producer thread ends; nothing hangs


def test_nul_bytes_are_refused_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"email\na@example.com\nb@exa\x00mple.com\nc@example.com\n")
    with pytest.raises(InputError) as caught:
        resolve_file(path, partner=None, keyring=None)
    assert caught.value.code == "nul_byte"
    assert caught.value.line == 3


@pytest.mark.parametrize(
    ("separator", "name"), [(";", "x.csv"), ("|", "x.txt"), ("\t", "x.csv"), ("|", "x.psv.gz")]
)
def test_semicolon_pipe_and_tab_delimiters_are_detected(
    tmp_path: Path, separator: str, name: str
) -> None:
    text = separator.join(["email", "phone", "segment"]) + "\n"
    text += separator.join(["a@b.com", "+14155550100", "s1"]) + "\n"
    text += separator.join(["c@d.com", "", "s2"]) + "\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    resolution = resolve_file(path, partner="p", keyring=KeyRing(b"k" * 32))
    assert resolution.columns == {"email": "email", "phone": "phone", "segment": "segment"}
    assert sum(len(c) for c in resolution.chunks()) == 2


def test_a_quoted_header_field_with_a_comma_is_one_column(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('"name, full",email,"notes; misc"\n"Doe, J",a@b.com,x\n')
    resolution = resolve_file(path, partner="p", keyring=KeyRing(b"k" * 32))
    assert resolution.columns == {"email": "email"}
    assert sum(len(c) for c in resolution.chunks()) == 1


@pytest.mark.parametrize(
    ("content", "looks"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old Excel workbook (.xls)"),
        (b'{"email": "' + SECRET.encode() + b'"}\n{"email": "x@y.z"}\n', "JSON (or JSON lines)"),
        (b'[{"email": "' + SECRET.encode() + b'"}]', "JSON (or JSON lines)"),
        (b"%PDF-1.7\n", "a PDF document"),
        (("email\n" + SECRET + "\n").encode("utf-16"), "UTF-16 text"),
        (b"BZh91AY&SY" + b"\x00" * 16, "bzip2 archive"),
    ],
)
def test_other_formats_say_what_the_file_looks_like_and_what_is_accepted(
    tmp_path: Path, content: bytes, looks: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        _collect(path)
    assert caught.value.code == "unsupported_format"
    assert looks in caught.value.message
    assert "accepted: CSV or TSV (or ; or | delimited) text" in caught.value.message
    assert SECRET not in str(caught.value)
