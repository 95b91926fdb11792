"""Upload speed of `distribute` against the emulator, as a fraction of TikTok's limit.

    python -m benchmarks.distribute_bench --members 2000000 --latency-ms 100

Starts the emulator (TikTok's limits: 50 requests/s and 3,000/min per token, each request
delayed by --latency-ms), registers an ad account, and distributes a synthetic segment of
--members people with one hashed email each: --members / 10,000 mapping requests. The
limit is 50 × 10,000 = 500,000 user ids/s; the run reports ids/s achieved and that
fraction (end to end: planning, ledger and upload; and over the upload alone, from the
first to the last mapping request the emulator logged), plus the highest number of
requests the emulator saw in any one second.
Appends a JSON line to benchmarks/out/distribute.jsonl.

Note: at 3,000 requests/min, a segment over 3M ids cannot average 500,000/s over more
than a minute; 2M members (200 requests) stay within the first minute's budget.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import polars_hash  # noqa: F401  (registers the chash namespace)

from benchmarks.common import machine, report
from distributor import RunReport, Workspace
from distributor.authorize import Credentials, add_account
from distributor.sandbox.process import SandboxProcess, start_sandbox

LIMIT_IDS_PER_SECOND = 50 * 10_000


def members(count: int) -> pl.DataFrame:
    frame = pl.DataFrame({"n": pl.int_range(0, count, eager=True)})
    label = pl.lit("bench") + pl.col("n").cast(pl.String)
    return frame.select(
        label.chash.sha2_256().str.slice(0, 32).str.decode("hex").alias("person_key"),
        (label + "@example.com").chash.sha2_256().alias("email_sha256"),
        pl.lit(None, pl.String).alias("phone_sha256"),
        pl.lit(None, pl.String).alias("maid_sha256"),
        pl.lit(None, pl.String).alias("maid_type"),
    )


def run(members_count: int, latency_ms: float) -> dict[str, object]:
    """Distribute a synthetic segment to a fresh emulator; the measured figures."""
    segment = members(members_count)
    with (
        tempfile.TemporaryDirectory(prefix="tessera-dist-bench-") as tmp,
        start_sandbox("--users", "1000", "--latency-ms", str(latency_ms)) as sandbox,
    ):
        with _workspace(Path(tmp) / "home", sandbox) as ws:
            started, wall = time.perf_counter(), time.time()
            report = ws.distribute("bench", segment, "bench")
            seconds = time.perf_counter() - started
        # The account check's probe is a mapping request too: count only this run's.
        log = [
            e for e in sandbox.requests() if e["path"] == "segment/mapping/" and e["time"] >= wall
        ]
    return _figures(members_count, latency_ms, report, seconds, log)


def _workspace(root: Path, sandbox: SandboxProcess) -> Workspace:
    for name in list(os.environ):
        if name.startswith("TESSERA_"):
            del os.environ[name]
    os.environ["TESSERA_TIKTOK__API_BASE_URL"] = sandbox.base_url
    os.environ["BENCH_TOKEN"] = sandbox.token()
    ws = Workspace.open(root)
    ws.home.initialize()
    credentials = Credentials(token_env="BENCH_TOKEN")  # noqa: S106 (a variable name)
    asyncio.run(add_account(ws, "tiktok", sandbox.advertiser(), "bench", credentials))
    return ws


def _figures(
    count: int, latency_ms: float, report: RunReport, seconds: float, log: list[dict[str, Any]]
) -> dict[str, object]:
    ids = report.synced
    times = [e["time"] for e in log]
    upload = (max(times) - min(times)) if len(times) > 1 else seconds
    per_second = Counter(int(e["time"]) for e in log)
    return {
        "bench": "distribute",
        "members": count,
        "latency_ms": latency_ms,
        "seconds": round(seconds, 2),
        "ids_per_second": round(ids / seconds),
        "fraction_of_limit": round(ids / seconds / LIMIT_IDS_PER_SECOND, 3),
        "upload_seconds": round(upload, 2),
        "upload_fraction_of_limit": round(ids / upload / LIMIT_IDS_PER_SECOND, 3),
        "requests": len(log),
        "max_requests_in_a_second": max(per_second.values(), default=0),
        "throttled": sum(1 for e in log if e["code"] == 40100),
        "synced": report.synced,
        "errored": report.errored,
        **machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2_000_000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    args = parser.parse_args()
    result = run(args.members, args.latency_ms)
    report("distribute", result, width=250)


if __name__ == "__main__":
    main()
