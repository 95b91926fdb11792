"""Speed of the pure planner on a large record sync, against a pure-Python baseline.

    python -m benchmarks.plan_bench --members 2000000 --moved 100000

What the destination holds and what the segment wants: --members persons each, with an
email and an AAID, of which --moved left and --moved joined. `plan` (Polars: per-id diff,
rows rebuilt per person, sorted, cut into batches of 10,000) against the obvious Python
version of the same diff (set differences of (id type, id) pairs, no batching). Appends a
JSON line to benchmarks/out/plan.jsonl.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from benchmarks.common import machine, report
from distributor.plan import plan


def frames(members: int, moved: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    keys = np.arange(members + moved, dtype=np.uint64)
    hexes = pl.Series(keys).cast(pl.Utf8).str.zfill(64)
    base = pl.DataFrame({"k": keys, "email_sha256": hexes}).with_columns(
        pl.col("k").cast(pl.Utf8).str.zfill(16).cast(pl.Binary).alias("person_key"),
        pl.lit(None, pl.Utf8).alias("phone_sha256"),
        pl.lit(None, pl.Utf8).alias("idfa_sha256"),
        pl.col("email_sha256").str.replace("^0", "a").alias("aaid_sha256"),
    )
    return base.head(members), base.tail(members)


def python_diff(held: pl.DataFrame, current: pl.DataFrame) -> tuple[int, int]:
    columns = ["email_sha256", "aaid_sha256"]
    before = {(c, v) for c in columns for v in held[c].to_list() if v is not None}
    after = {(c, v) for c in columns for v in current[c].to_list() if v is not None}
    return len(before - after), len(after - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2_000_000)
    parser.add_argument("--moved", type=int, default=100_000)
    args = parser.parse_args()
    held, current = frames(args.members, args.moved)
    started = time.perf_counter()
    result = plan(held, current)
    planned = time.perf_counter() - started
    started = time.perf_counter()
    deletes, adds = python_diff(held, current)
    baseline = time.perf_counter() - started
    assert (result.ids("delete"), result.ids("add")) == (deletes, adds)
    figures = {
        "bench": "plan",
        "members": args.members,
        "moved": args.moved,
        "plan_seconds": round(planned, 3),
        "python_diff_seconds": round(baseline, 3),
        "batches": len(result.batches),
        **machine(),
    }
    report("plan", figures)


if __name__ == "__main__":
    main()
