"""A data file's sidecar, `X.toml` beside `X`: which segment the file is, and whether it
is a full refresh (the default) or incremental (`mode = "incremental"`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from resolver.errors import InputError

FULL, INCREMENTAL = "full", "incremental"


@dataclass(frozen=True)
class Sidecar:
    segment: str | None = None
    mode: str = FULL


def read_sidecar(path: Path, data_file: str) -> Sidecar:
    """Parse `X.toml` next to a data file; InputError naming the sidecar when invalid."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            "bad_sidecar", path.name, f"the sidecar of {data_file} is not valid TOML ({exc})"
        ) from None
    unknown = sorted(set(table) - {"segment", "mode"})
    if unknown:
        raise InputError("bad_sidecar", path.name, f"unknown sidecar keys: {', '.join(unknown)}")
    mode = table.get("mode", FULL)
    if mode not in (FULL, INCREMENTAL):
        raise InputError("bad_sidecar", path.name, 'mode must be "full" or "incremental"')
    segment = table.get("segment")
    if segment is not None and not isinstance(segment, str):
        raise InputError("bad_sidecar", path.name, "segment must be a string")
    return Sidecar(segment=segment, mode=mode)
