"""Errors of the resolver. Messages name files, lines and columns, never values or keys.

ResolverError           base of every error the resolver raises on purpose
  InputError            a file cannot be read as identifier data (code, file, line, column)
  OptionError           an option is not allowed: unknown region or profile, bad partner name
  MasterKeyError        the master key is missing, malformed or readable by others
  SegmentError          a segment operation is not allowed (unknown name, name taken, ...)
  StoreError            the store is inconsistent or cannot be written
  QuarantineError       a quarantine action is not allowed (not quarantined, name taken)
  NoHome                the command needs a home and none was made where it looked
  ServiceError          `serve` cannot start (another one runs, the home is not initialized)

The command line also reports config.SettingsError (a bad setting or config.toml) the same
way: one line, no traceback. Anything else is a bug, and a file it happens on is
quarantined as `internal_error` rather than stalling the others.

Exit codes of the `resolver` command: 0 done; 1 an input or state error (any error above,
or a bad setting: the line says which file, setting or name); 2 usage (an unknown option,
a value out of its range, --home given twice); 130 interrupted (Ctrl-C: a file in hand is
taken again by the next `serve`).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# OS errors that are the system's, not a file's (a full disk, no file handles): `serve`
# stops and the file in hand resumes; any other OS error on a file quarantines it.
SYSTEM_FAULTS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EMFILE, errno.ENFILE, errno.ENOMEM}
)


class ResolverError(Exception):
    """Base of every error the resolver raises on purpose."""


@dataclass
class InputError(ResolverError):
    """A malformed input file. `code` is stable (e.g. "ragged_row", "invalid_utf8",
    "no_identifier_column", "line_too_long", "unreadable", "empty_file",
    "decompression_bomb", "too_large", "unsupported_format"); line and column are
    1-based when known."""

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


class OptionError(ResolverError):
    """An option value is not allowed; the message says what is."""


class MasterKeyError(ResolverError):
    """The master key is missing or malformed. The message never contains key material."""


class SegmentError(ResolverError):
    """A segment operation that is not allowed; the message says what to do instead."""


class StoreError(ResolverError):
    """The store could not be read or written consistently."""


class QuarantineError(ResolverError):
    """A quarantined file cannot be retried or purged as asked; the message says why."""


class NoHome(ResolverError):
    """The command needs a home and there is none where it looked."""

    def __init__(self, root: object) -> None:
        super().__init__(
            f"no Tessera home at {root}: run `resolver init` to make one there, or give the"
            " home with --home DIR (or TESSERA_HOME)"
        )


class ServiceError(ResolverError):
    """The service cannot start (another one runs, the home is not initialized...)."""
