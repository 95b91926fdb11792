"""Shared benchmark plumbing: run a command as a child process and measure it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from resolver.state.atomic import private_dir

OUT = Path(__file__).parent / "out"
DATA = Path(__file__).parent / "data"


@dataclass
class Measurement:
    label: str
    rows: int
    seconds: float
    peak_mib: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure(label: str, rows: int, argv: list[str]) -> Measurement:
    """Run argv to completion under benchmarks.rss: wall time and the child's peak RSS."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss", *argv], capture_output=True, text=True, check=False
    )
    try:
        data = json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise RuntimeError(f"{label} failed: {out.stderr[-2000:]}") from None
    if data["status"] != 0:
        raise RuntimeError(f"{label} failed: {out.stderr[-2000:]}")
    return Measurement(label, rows, data["seconds"], data["peak_kib"] / 1024)


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }


def record(bench: str, results: list[Measurement], extra: dict[str, object] | None = None) -> None:
    private_dir(OUT)
    with (OUT / f"{bench}.jsonl").open("a") as handle:
        for m in results:
            handle.write(
                json.dumps(
                    {
                        "bench": bench,
                        **asdict(m),
                        "rows_per_second": round(m.rows_per_second),
                        **machine(),
                        **(extra or {}),
                    }
                )
                + "\n"
            )


def python() -> str:
    return sys.executable


def report(bench: str, figures: dict[str, object], width: int = 200) -> None:
    """Append one JSON line to benchmarks/out/<bench>.jsonl and print it as a table."""
    from rich.console import Console
    from rich.table import Table

    private_dir(OUT)
    with (OUT / f"{bench}.jsonl").open("a") as handle:
        handle.write(json.dumps(figures) + "\n")
    table = Table(*figures.keys())
    table.add_row(*(str(v) for v in figures.values()))
    Console(width=width).print(table)
