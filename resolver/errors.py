"""Errors of the resolver. Messages name files, lines and columns, never values.

ResolverError
  InputError        a file cannot be read as identifier data (code, file, line, column)
  SegmentError      a segment operation is not allowed (unknown name, name taken, ...)
  StoreError        the store is inconsistent or cannot be written
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ResolverError(Exception):
    """Base of every error the resolver raises on purpose."""


@dataclass
class InputError(ResolverError):
    """A malformed input file. `code` is stable (e.g. "ragged_row", "invalid_utf8",
    "no_identifier_column", "line_too_long", "unreadable", "empty_file",
    "decompression_bomb", "too_large"); line and column are 1-based when known."""

    code: str
    file: Path | str
    message: str
    line: int | None = None
    column: str | int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message} [{self.code}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "file": Path(self.file).name,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "counts": dict(self.counts),
        }


class SegmentError(ResolverError):
    """A segment operation that is not allowed; the message says what to do instead."""


class StoreError(ResolverError):
    """The store could not be read or written consistently."""
