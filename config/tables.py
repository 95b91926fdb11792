"""The tables both command lines print, legible at any width.

A table that fits the terminal is printed as one; one that does not is printed a record
at a time (each row's columns one under another, as psql's expanded display does), its
values folded onto further lines rather than cut: a column is never squeezed to nothing
and an ID is never shortened. The width is the terminal's (or COLUMNS); output to a pipe
without COLUMNS is as wide as it needs to be, for tools that read it line by line (and
`--json` is there for them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 240


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal, COLUMNS, or (a pipe) PIPE_WIDTH."""
    found = Console(stderr=stderr)
    if found.is_terminal or os.environ.get("COLUMNS"):
        return found
    return Console(stderr=stderr, width=PIPE_WIDTH)


def print_table(
    title: str | None,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[str] = (),
    out: Console | None = None,
) -> None:
    """`rows` under `headers` (None prints as empty); columns named in `right` are
    right-aligned (numbers)."""
    out = out or console()
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    if _natural_width(headers, cells) <= out.width:
        table = Table(title=title)
        for header in headers:
            table.add_column(header, no_wrap=True, justify="right" if header in right else "left")
        for row in cells:
            table.add_row(*row)
        out.print(table)
        return
    _print_records(title, headers, cells, out)


def print_records(
    title: str, key: str, records: Sequence[Mapping[str, Any]], *, as_json: bool, **how: Any
) -> None:
    """Records (dicts with the same keys) as a table with those keys for headers, or, with
    `as_json`, as one JSON object `{key: [records]}` (the documented, stable form:
    README's "JSON output")."""
    if as_json:
        print_json({key: list(records)})
        return
    headers = list(records[0]) if records else []
    if not headers:
        console().print(f"{title}: none")
        return
    rows = [[record[h] for h in headers] for record in records]
    print_table(title, [h.replace("_", " ") for h in headers], rows, **how)


def print_json(payload: Mapping[str, Any]) -> None:
    """A command's --json output: one indented object on standard output."""
    print(json.dumps(payload, indent=2, default=str))


def _natural_width(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> int:
    """What rich's box needs for the table unfolded: every column as wide as its longest
    cell, one space of padding each side and a rule between columns and at both ends."""
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    return sum(widths) + 3 * len(widths) + 1


def _print_records(
    title: str | None, headers: Sequence[str], cells: Sequence[Sequence[str]], out: Console
) -> None:
    if title:
        out.print(Text(title, style="italic"), justify="center")
    label = max((len(h) for h in headers), default=0)
    room = max(out.width - label - 3, 8)  # what a value gets beside its label
    for number, row in enumerate(cells, start=1):
        out.print(Text(f"-[ {number} ]" + "-" * max(out.width - 7 - len(str(number)), 0)))
        for header, value in zip(headers, row, strict=True):
            pieces = [value[i : i + room] for i in range(0, len(value), room)] or [""]
            out.print(Text(f"{header:<{label}} | {pieces[0]}"), soft_wrap=True)
            for piece in pieces[1:]:
                out.print(Text(f"{'':<{label}} | {piece}"), soft_wrap=True)
    if not cells:
        out.print(Text("(none)"))
