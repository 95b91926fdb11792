"""Helpers for inbox tests: homes sharing one master key, file drops, and snapshots of
everything a run produced (outputs, memberships, file states) to compare two runs."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from resolver.home import Home
from resolver.inbox.service import Service
from resolver.partners import add_partner
from resolver.segments.catalog import Segments
from resolver.state.control import Control
from resolver.state.graphdb import GraphDB

FIXED_KEY = "5a" * 32  # test-only master key, so two homes derive the same person keys


def make_home(root: Path, *partners: str) -> Home:
    home = Home.open(root)
    home.root.mkdir(parents=True, exist_ok=True)
    home.key_file.write_text(FIXED_KEY + "\n")
    home.key_file.chmod(0o600)
    home.initialize()
    for partner in partners:
        add_partner(home, partner, "US")
    return home


def run_once(home: Home) -> dict[str, int]:
    """One `serve --once` in process: its file counts by outcome."""
    return Service(home).run(once=True).counts()


def csv_text(rows: list[dict[str, str]]) -> str:
    """Rows as CSV; a column any row has is a column of every row (empty where missing)."""
    columns = list(dict.fromkeys(c for row in rows for c in row))
    lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def people(start: int, count: int, segments: str = "sports") -> list[dict[str, str]]:
    return [
        {
            "email": f"person{n}@example.com",
            "phone": f"+1415555{n % 10000:04d}",
            "segments": segments,
        }
        for n in range(start, start + count)
    ]


def drop(home: Home, partner: str, name: str, text: str | bytes, *, done: bool = True) -> Path:
    """Write a file the way a good partner does: X.part, then rename to X (+ X.done)."""
    folder = home.inbox / partner
    data = text.encode() if isinstance(text, str) else text
    part = folder / f"{name}.part"
    part.write_bytes(data)
    os.replace(part, folder / name)
    if done:
        (folder / f"{name}.done").write_bytes(b"")
    return folder / name


def gz(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def serve_env(home: Home, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env |= {"TESSERA_HOME": str(home.root), "TESSERA_INBOX__STABLE_SECONDS": "0"}
    return env | extra


SERVE_ONCE = [sys.executable, "-m", "resolver", "serve", "--once", "--json"]


def serve(home: Home, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        SERVE_ONCE,
        env=serve_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def serve_killed_after(home: Home, seconds: float, **extra: str) -> int:
    """Start `serve --once`, SIGKILL it after `seconds` (if still running)."""
    proc = subprocess.Popen(
        SERVE_ONCE,
        env=serve_env(home, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)


def snapshot(home: Home) -> dict[str, Any]:
    """What a run produced, independent of timing: outbox bytes (reports without timing
    fields), segment memberships per version, and counts of files per state."""
    outbox: dict[str, str] = {}
    for path in sorted(home.outbox.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith(".report.json"):
            report = json.loads(data)
            for volatile in ("seconds", "rows_per_second", "file_id"):
                report.pop(volatile, None)
            data = json.dumps(report, sort_keys=True).encode()
        outbox[str(path.relative_to(home.outbox))] = hashlib.sha256(data).hexdigest()
    segments: dict[str, Any] = {}
    with Segments(home) as api:
        for info in api.all():
            segments[info.name] = [
                (
                    v.version,
                    v.members,
                    v.added,
                    v.removed,
                    sorted(api.person_keys(info.name, v.version).to_list()),
                )
                for v in api.versions(info.name)
            ]
    with Control(home.control_db) as control:
        states = control.counts_by_state()
    return {"outbox": outbox, "segments": segments, "states": states}


def leftovers(home: Home) -> list[str]:
    """Temp files, staged parts or claimed raw files that should not survive a run."""
    found = [str(p) for p in home.root.rglob(".*.tmp-*")]
    found += [str(p) for p in home.work.rglob("*") if p.is_file()]
    staging = home.store / "staging"
    if staging.exists():
        found += [str(p) for p in staging.iterdir()]
    folder = home.store / "graph"
    partners = [p.name for p in folder.iterdir()] if folder.exists() else []
    with Control(home.control_db) as control:  # graph generations never committed, and
        graphs = GraphDB(control.database)  # graph parts no generation names
        found += [f"pending graph of {p}" for p in partners if graphs.pending(p)]
        known = graphs.known_paths()
    for path in folder.rglob("*") if folder.exists() else []:
        rel = path.relative_to(home.store).as_posix()
        if path.is_file() and path.name != ".lock" and rel not in known:
            found.append(str(path))
    return found
