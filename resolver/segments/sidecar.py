"""A data file's sidecar, `X.toml` beside `X`: which segment the file is, whether it is a
full refresh (the default) or incremental (`mode = "incremental"`), and whether it brings
back people erased by `resolver forget` on purpose (`readmit_forgotten = true`)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from resolver.errors import InputError, SegmentError
from resolver.segments.names import check_name

FULL, INCREMENTAL = "full", "incremental"
KNOWN = ("segment", "mode", "readmit_forgotten")


@dataclass(frozen=True)
class Sidecar:
    segment: str | None = None
    mode: str = FULL
    readmit_forgotten: bool = False


def read_sidecar(path: Path, data_file: str) -> Sidecar:
    """Parse `X.toml` next to a data file; InputError naming the sidecar when invalid. The
    messages name the line and the known keys, never the sidecar's content."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        line, column = _position(exc)
        message = f"the sidecar of {data_file} is not valid UTF-8 TOML"
        raise InputError("bad_sidecar", path.name, message, line=line, column=column) from None
    unknown = set(table) - set(KNOWN)
    if unknown:
        message = f"the sidecar has {len(unknown)} unknown key(s); known: {', '.join(KNOWN)}"
        raise InputError("bad_sidecar", path.name, message)
    mode = table.get("mode", FULL)
    if mode not in (FULL, INCREMENTAL):
        raise InputError("bad_sidecar", path.name, 'mode must be "full" or "incremental"')
    segment = table.get("segment")
    if segment is not None and not isinstance(segment, str):
        raise InputError("bad_sidecar", path.name, "segment must be a string")
    if segment is not None:
        try:
            check_name(segment)
        except SegmentError as exc:
            raise InputError("bad_sidecar", path.name, str(exc), column="segment") from None
    readmit = table.get("readmit_forgotten", False)
    if not isinstance(readmit, bool):
        raise InputError("bad_sidecar", path.name, "readmit_forgotten must be true or false")
    return Sidecar(segment=segment, mode=mode, readmit_forgotten=readmit)


def _position(exc: Exception) -> tuple[int | None, int | None]:
    """Line and column of a TOML error, from its message's "(at line L, column C)"."""
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    return (int(found[1]), int(found[2])) if found else (None, None)
