"""How `resolve`, `hash` and `serve` show a file's progress (resolver.pipeline.report's
Progress): on a terminal, a bar per phase (checking, reading, linking, writing) with done
of total in bytes or rows, the rate and the time left; without one, a line every 10 s
on stderr. Counts only, never values."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from resolver.pipeline.report import Progress as Watcher


def amount(done: float, total: float | None, unit: str) -> str:
    """'1.2 GB of 2.7 GB' or '400,000 of 1,000,000 rows' (what is done, with no total)."""
    if unit == "bytes":
        shown = filesize.decimal(int(done))
        return shown if total is None else f"{shown} of {filesize.decimal(int(total))}"
    return f"{int(done):,} {unit}" if total is None else f"{int(done):,} of {int(total):,} {unit}"


def rate(speed: float | None, unit: str) -> str:
    if not speed:
        return ""
    return f"{filesize.decimal(int(speed))}/s" if unit == "bytes" else f"{speed:,.0f} {unit}/s"


class _Amount(ProgressColumn):
    def render(self, task: Task) -> Text:
        if task.total is None and not task.completed:
            return Text("")
        return Text(amount(task.completed, task.total, task.fields.get("unit", "rows")))


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(rate(task.speed, task.fields.get("unit", "rows")), "cyan")


class _Bar:
    """The Progress a terminal shows: one line, the current phase's."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar, self.task, self.done_rows = bar, task, 0

    def begin(self, phase: str, total: int | None = None, unit: str = "rows") -> None:
        """A task per phase: its own total (none: a pulse), rate and time left."""
        self.bar.remove_task(self.task)
        self.task = self.bar.add_task(phase, total=total, unit=unit, rows=self._rows())

    def _rows(self) -> str:
        return f"{self.done_rows:,} rows processed" if self.done_rows else ""

    def advance(self, done: int) -> None:
        with suppress(KeyError):  # a late report from the reading thread of a phase gone
            self.bar.advance(self.task, done)

    def rows(self, done: int) -> None:
        self.done_rows += done
        self.bar.update(self.task, rows=self._rows())


class _Lines:
    """The Progress without a terminal: a line every `every` seconds on stderr. The
    reading thread only adds to a count (no lock, no printing: an interrupt could leave
    either held by the main thread, and the reader waiting on it); the main thread
    prints, after each chunk."""

    def __init__(self, console: Console, label: str, every: float = 10.0) -> None:
        self.console, self.label, self.every = console, label, every
        self.phase, self.unit = "", "rows"
        self.total: int | None = None
        self.done = self.done_rows = 0
        self.started = self.said = time.monotonic()

    def begin(self, phase: str, total: int | None = None, unit: str = "rows") -> None:
        self.phase, self.total, self.unit, self.done = phase, total, unit, 0
        self.started = time.monotonic()

    def advance(self, done: int) -> None:
        self.done += done
        if threading.current_thread() is threading.main_thread():
            self._say()

    def rows(self, done: int) -> None:
        self.done_rows += done
        self._say()

    def _say(self) -> None:
        now = time.monotonic()
        if now - self.said >= self.every:
            self.said = now
            self.console.print(self.line(now - self.started), highlight=False)

    def line(self, seconds: float) -> str:
        speed = self.done / seconds if seconds > 0 else 0.0
        parts = [f"{self.label}: {self.phase} {amount(self.done, self.total, self.unit)}"]
        if self.total:
            parts.append(f"{100 * self.done / self.total:.0f}%")
        if speed:
            parts.append(rate(speed, self.unit))
            if self.total:
                parts.append(f"about {max(self.total - self.done, 0) / speed:.0f} s left")
        return ", ".join(parts)


@contextmanager
def file_progress(console: Console, label: str) -> Iterator[Watcher]:
    """A file's progress: a bar on a terminal, else a line every 10 s."""
    if not console.is_terminal:
        yield _Lines(console, label)
        return
    bar = Progress(
        TextColumn(f"{label} [bold]{{task.description}}"),
        BarColumn(),
        _Amount(),
        _Rate(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[rows]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task("opening", total=None, unit="rows", rows="")
        yield _Bar(bar, task)
