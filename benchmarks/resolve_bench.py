"""Throughput of `resolver hash` and `resolver resolve` against baselines.

    python -m benchmarks.resolve_bench --rows 1000000 10000000

For each size: generate (once, cached) a seeded dirty 3-identifier CSV, then run, each as
its own process: `resolver hash`, `resolver resolve`, the pure-Python baseline (hash and
keyed), and the plain DuckDB SQL baseline. Prints rows/s, peak RSS and ratios; appends JSON
lines to benchmarks/out/resolve.jsonl.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import DATA, Measurement, measure, python, record
from resolver.sample import write_sample
from resolver.state.atomic import private_dir


def dataset(rows: int) -> Path:
    path = DATA / f"sample-{rows}.csv"
    if not path.exists():
        private_dir(DATA)
        write_sample(path, rows, seed=11)
    return path


def run(rows: int, skip_python: bool) -> list[Measurement]:
    src = dataset(rows)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        cli = [python(), "-m", "resolver", "--home", str(home)]
        measure("init", 0, [*cli, "init"])
        results = [
            measure("tessera hash", rows, [*cli, "hash", str(src), "-o", f"{tmp}/h.csv"]),
            measure(
                "tessera resolve",
                rows,
                [*cli, "resolve", str(src), "--partner", "bench", "-o", f"{tmp}/r.csv"],
            ),
            measure(
                "duckdb sql (no normalization)",
                rows,
                [python(), "-m", "benchmarks.baselines", "duckdb", str(src), f"{tmp}/d.csv"],
            ),
        ]
        if not skip_python:
            results += [
                measure(
                    "pure python hash",
                    rows,
                    [python(), "-m", "benchmarks.baselines", "python", str(src), f"{tmp}/p.csv"],
                ),
                measure(
                    "pure python keyed",
                    rows,
                    [
                        python(),
                        "-m",
                        "benchmarks.baselines",
                        "python-keyed",
                        str(src),
                        f"{tmp}/k.csv",
                    ],
                ),
            ]
    return results


def show(rows: int, results: list[Measurement]) -> None:
    base = {m.label: m for m in results}
    table = Table(title=f"{rows:,} rows, 3 identifiers")
    for column in ("run", "seconds", "rows/s", "peak MiB", "vs duckdb", "vs pure python"):
        table.add_column(column, justify="right" if column != "run" else "left")
    duck = base["duckdb sql (no normalization)"].rows_per_second
    pure = base.get("pure python hash")
    for m in results:
        table.add_row(
            m.label,
            f"{m.seconds:.1f}",
            f"{m.rows_per_second:,.0f}",
            f"{m.peak_mib:,.0f}",
            f"{m.rows_per_second / duck:.2f}x",
            f"{m.rows_per_second / pure.rows_per_second:.1f}x" if pure else "-",
        )
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument(
        "--skip-python", action="store_true", help="leave out the (slow) pure-Python baselines"
    )
    args = parser.parse_args()
    for rows in args.rows:
        results = run(rows, args.skip_python)
        record("resolve", results)
        show(rows, results)


if __name__ == "__main__":
    main()
