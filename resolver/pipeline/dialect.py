"""What kind of text a partner's file is: its delimiter and header fields, or, for a file
that is plainly something else (a spreadsheet, JSON, an archive), what it looks like."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from resolver.errors import InputError

SEPARATORS = (",", "\t", ";", "|")  # a tie goes to the first
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
# what other files start with, for a message that says what the file looks like
_OTHER_FORMATS = (
    (b"PK\x03\x04", "a ZIP archive, or an Excel workbook (.xlsx): export the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls): export the sheet as CSV"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "a bzip2 archive: recompress it with gzip"),
    (b"\xfd7zXZ", "an xz archive: recompress it with gzip"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive: recompress it with gzip"),
    (b"\xff\xfe", "UTF-16 text: save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text: save it as UTF-8"),
)
ACCEPTED = "CSV or TSV (or ; or | delimited) text, optionally gzip'd, or Parquet"


def detect_separator(path: Path, header: str) -> str:
    """Tab for .tsv/.tab names; else the one of `SEPARATORS` the header line holds most
    of outside quotes (a header field "last, first" is one field)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    bare = _QUOTED.sub("", header)
    return max(SEPARATORS, key=bare.count)


def split_header(header: str, separator: str) -> tuple[str, ...]:
    fields = next(csv.reader([header], delimiter=separator, quotechar='"'), [])
    return tuple(f.strip() for f in fields)


def refuse_other_formats(data: Path, path: Path) -> None:
    """An unsupported_format error for a file that is plainly not delimited text (a
    NUL byte in a text file is the line check's, which names its line)."""
    with data.open("rb") as handle:
        head = handle.read(4096)
    looks = next((what for magic, what in _OTHER_FORMATS if head.startswith(magic)), None)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if looks is None and text[:1] in (b"{", b"["):
        looks = "JSON (or JSON lines): write it as CSV with one column per identifier"
    if looks is not None:
        message = f"the file looks like {looks}; accepted: {ACCEPTED}"
        raise InputError("unsupported_format", path, message)
