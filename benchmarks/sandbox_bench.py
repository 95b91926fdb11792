"""Throughput of the bundled TikTok emulator (`distributor sandbox`) on audience uploads.

    python -m benchmarks.sandbox_bench --seconds 20 --concurrency 8

Starts the emulator as its own process and POSTs `segment/mapping/` add requests of
EMAIL_SHA256 users (random 64-hex ids), pre-built as bytes before timing so the client
only sends. Each phase has its own advertiser, token and audience. Three phases:

- lifted: rate limits raised out of reach; --concurrency threads send 10,000-user batches
  back to back for --seconds. The emulator's own ceiling (client and server share the
  machine).
- tiktok 10k: TikTok's limits (50 requests/s and 3,000/min per token, the emulator's
  default), the client paced at 50 requests/s for --paced-seconds with 10,000-user batches.
  Below the lifted ceiling in req/s, the pacing cannot be met and the emulator's speed
  decides.
- tiktok small: the same limits and pacing with --paced-batch users per request, light
  enough to keep the pace, so the rate limiter decides: does exact pacing at the limit
  draw 40100?

Only answers with envelope code 0 count as accepted. Bodies cycle every --bodies batches,
so later adds re-add users already present (adds are idempotent). Prints a table and
appends JSON lines to benchmarks/out/sandbox.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from benchmarks.common import OUT, machine
from distributor.sandbox.process import SandboxProcess as Sandbox
from distributor.sandbox.process import start_sandbox

BATCH = 10_000
TIKTOK_PER_SECOND = 50
TIKTOK_PER_MINUTE = 3000


@dataclass
class Phase:
    label: str
    limits: str
    batch: int
    workers: int
    seconds: float = 0.0
    sent: int = 0
    accepted: int = 0
    throttled: int = 0
    failed: int = 0
    users: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    emulator_cpu_s: float | None = None
    client_cpu_s: float = 0.0
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def sent_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    @property
    def users_per_second(self) -> float:
        return self.users / self.seconds if self.seconds else 0.0


def bodies(advertiser: str, audience: str, batch: int, count: int, seed: int) -> list[bytes]:
    """`count` add bodies of `batch` random 64-hex ids each, serialized once."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        blob = rng.randbytes(32 * batch).hex()
        rows = [
            [{"id": blob[i : i + 64], "audience_ids": [audience]}] for i in range(0, len(blob), 64)
        ]
        out.append(
            orjson.dumps(
                {
                    "advertiser_ids": [advertiser],
                    "action": "add",
                    "id_schema": ["EMAIL_SHA256"],
                    "batch_data": rows,
                }
            )
        )
    return out


def create_audience(sb: Sandbox, token: str, advertiser: str, name: str) -> str:
    with httpx.Client(base_url=sb.base_url, headers={"Access-Token": token}) as client:
        answer = client.post(
            "segment/audience/",
            json={"custom_audience_name": name, "advertiser_id": advertiser, "action": "create"},
        ).json()
    if answer["code"] != 0:
        raise RuntimeError(f"creating the audience failed: {answer['message']}")
    return str(answer["data"]["audience_id"])


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def drive(
    sb: Sandbox,
    phase: Phase,
    token: str,
    payloads: list[bytes],
    next_slot: Callable[[], float | None],
) -> Phase:
    """Run phase.workers threads; each asks next_slot() for the time to send at (None:
    stop), then sends the next payload. Fills in the counts, rates and CPU times."""
    lock = threading.Lock()
    latencies: list[float] = []
    codes: Counter[str] = Counter()
    turn = iter(range(1 << 62))

    def worker() -> None:
        headers = {"Access-Token": token, "Content-Type": "application/json"}
        with httpx.Client(base_url=sb.base_url, headers=headers, timeout=120) as client:
            while True:
                with lock:
                    at = next_slot()
                    body = payloads[next(turn) % len(payloads)]
                if at is None:
                    return
                code, took = _send(client, body, at)
                with lock:
                    latencies.append(took)
                    codes[code] += 1

    _timed(sb, phase, worker)
    return _tally(phase, codes, latencies)


def _timed(sb: Sandbox, phase: Phase, worker: Callable[[], None]) -> None:
    """Run the workers to completion: wall time and both processes' CPU time."""
    threads = [threading.Thread(target=worker) for _ in range(phase.workers)]
    cpu_before, own_before = cpu_seconds(sb.process.pid), own_cpu()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - start
    cpu_after = cpu_seconds(sb.process.pid)
    if cpu_before is not None and cpu_after is not None:
        phase.emulator_cpu_s = cpu_after - cpu_before
    phase.client_cpu_s = own_cpu() - own_before


def _send(client: httpx.Client, body: bytes, at: float) -> tuple[str, float]:
    """POST one mapping body at time `at`: the envelope code (or the error) and seconds."""
    delay = at - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    sent = time.perf_counter()
    try:
        response = client.post("segment/mapping/", content=body)
        code = str(orjson.loads(response.content)["code"])
    except (httpx.HTTPError, orjson.JSONDecodeError, KeyError) as exc:
        code = type(exc).__name__
    return code, time.perf_counter() - sent


def _tally(phase: Phase, codes: Counter[str], latencies: list[float]) -> Phase:
    phase.sent = sum(codes.values())
    phase.accepted = codes["0"]
    phase.throttled = codes["40100"]
    phase.failed = phase.sent - phase.accepted - phase.throttled
    phase.users = phase.accepted * phase.batch
    phase.codes = dict(codes)
    if latencies:
        phase.p50_ms = statistics.median(latencies) * 1000
        phase.p95_ms = statistics.quantiles(latencies, n=20)[-1] * 1000 if len(latencies) > 1 else 0
    return phase


def until(deadline: float) -> Callable[[], float | None]:
    """Back-to-back slots until the deadline."""

    def slot() -> float | None:
        now = time.perf_counter()
        return now if now < deadline else None

    return slot


def paced(rate: float, seconds: float) -> Callable[[], float | None]:
    """Slots at exactly `rate` per second for `seconds`, from the first call."""
    start: list[float] = []
    count = iter(range(1 << 62))

    def slot() -> float | None:
        if not start:
            start.append(time.perf_counter())
        at = start[0] + next(count) / rate
        return at if at < start[0] + seconds else None

    return slot


def run(
    seconds: float, concurrency: int, paced_seconds: float, paced_batch: int, count: int
) -> list[Phase]:
    tiktok = f"{TIKTOK_PER_SECOND}/s, {TIKTOK_PER_MINUTE}/min"
    paced_label = f"tiktok, paced {TIKTOK_PER_SECOND}/s"
    phases = [
        Phase("lifted", "100k/s, 6M/min", BATCH, concurrency),
        Phase(paced_label, tiktok, BATCH, concurrency),
        Phase(paced_label, tiktok, paced_batch, concurrency),
    ]
    results = []
    with start_sandbox() as sb:
        # One token per phase: a token's per-minute window still holds the phase before.
        for n, phase in enumerate(phases):
            advertiser, token = sb.advertiser(n), sb.token("admin", n)
            audience = create_audience(sb, token, advertiser, f"bench {n}")
            payloads = bodies(advertiser, audience, phase.batch, count, seed=n)
            if n == 0:
                sb.limits(100_000, 6_000_000)
                slots = until(time.perf_counter() + seconds)
            else:
                sb.limits(TIKTOK_PER_SECOND, TIKTOK_PER_MINUTE)
                slots = paced(TIKTOK_PER_SECOND, paced_seconds)
            results.append(drive(sb, phase, token, payloads, slots))
    return results


def show(results: list[Phase]) -> None:
    table = Table(title="TikTok emulator: segment/mapping add, accepted = envelope code 0")
    columns = (
        "phase",
        "limits",
        "users/req",
        "workers",
        "seconds",
        "sent/s",
        "accepted/s",
        "users/s",
        "40100",
        "other",
        "p50 ms",
        "p95 ms",
        "emulator CPU (cores)",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("phase", "limits") else "right")
    for p in results:
        cpu = p.emulator_cpu_s
        table.add_row(
            p.label,
            p.limits,
            f"{p.batch:,}",
            str(p.workers),
            f"{p.seconds:.1f}",
            f"{p.sent_per_second:,.1f}",
            f"{p.requests_per_second:,.1f}",
            f"{p.users_per_second:,.0f}",
            f"{p.throttled:,}",
            f"{p.failed:,}",
            f"{p.p50_ms:,.0f}",
            f"{p.p95_ms:,.0f}",
            "-" if cpu is None else f"{cpu:.1f} s ({cpu / p.seconds:.2f})",
        )
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def record(results: list[Phase]) -> None:
    OUT.mkdir(mode=0o700, exist_ok=True)
    with (OUT / "sandbox.jsonl").open("a") as handle:
        for p in results:
            line = {
                "bench": "sandbox",
                **asdict(p),
                "requests_per_second": round(p.requests_per_second, 1),
                "users_per_second": round(p.users_per_second),
                **machine(),
            }
            handle.write(json.dumps(line) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20, help="length of the lifted phase")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--paced-seconds", type=float, default=10, help="length of the paced phase")
    parser.add_argument(
        "--paced-batch", type=int, default=1000, help="users per request in the light phase"
    )
    parser.add_argument(
        "--bodies", type=int, default=32, help="distinct pre-built request bodies to cycle"
    )
    args = parser.parse_args()
    results = run(args.seconds, args.concurrency, args.paced_seconds, args.paced_batch, args.bodies)
    record(results)
    show(results)


if __name__ == "__main__":
    main()
