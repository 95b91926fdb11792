"""Throughput and peak memory of `resolver serve --once` over a batch of partner files.

    python -m benchmarks.serve_bench --files 10 --rows 1000000

Generates (once, cached) `--files` distinct seeded dirty files of `--rows` rows each with
segment membership, copies them into a fresh home's inbox (with `.done` markers), and runs
`resolver serve --once` as a child process under benchmarks.rss: wall time, rows/s over all
files and the peak RSS of the service. Appends a JSON line to benchmarks/out/serve.jsonl.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks.common import DATA, measure, record
from resolver.sample import write_sample


def dataset(n: int, rows: int) -> Path:
    path = DATA / f"serve-{rows}-{n:02d}.csv"
    if not path.exists():
        DATA.mkdir(mode=0o700, exist_ok=True)
        write_sample(path, rows, seed=100 + n)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    sources = [dataset(n, args.rows) for n in range(args.files)]
    with tempfile.TemporaryDirectory(prefix="tessera-serve-bench-") as tmp:
        home = Path(tmp) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
        env["TESSERA_HOME"] = str(home)
        for argv in (["init"], ["partners", "add", "bench"]):
            subprocess.run(
                [sys.executable, "-m", "resolver", *argv], env=env, check=True, capture_output=True
            )
        for source in sources:
            target = home / "inbox" / "bench" / source.name
            shutil.copyfile(source, target)
            (target.parent / f"{source.name}.done").write_bytes(b"")
        os.environ.update(env)
        result = measure(
            f"serve --once, {args.files} files",
            args.files * args.rows,
            [sys.executable, "-m", "resolver", "serve", "--once"],
        )
        stored = sum(p.stat().st_size for p in (home / "store").rglob("*") if p.is_file())
    record("serve", [result], {"files": args.files, "rows_per_file": args.rows})
    table = Table("run", "rows", "seconds", "rows/s", "peak MiB", "store MiB")
    table.add_row(
        result.label,
        f"{result.rows:,}",
        f"{result.seconds:.1f}",
        f"{result.rows_per_second:,.0f}",
        f"{result.peak_mib:,.0f}",
        f"{stored / 2**20:,.0f}",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
