"""Raw-file retention (`inbox.raw_retention_days`): by default a file's raw bytes are
deleted at purge, so no raw PII stays after commit. With a retention, they are first kept
sealed (AES-256-GCM under the partner's data key, state.seal) in `store/raw/<partner>/`,
and deleted once the retention has passed (checked at every start)."""

from __future__ import annotations

import time
from pathlib import Path

from resolver.state.atomic import atomic_file
from resolver.state.seal import Sealer


def raw_path(store: Path, partner: str, file_id: int) -> Path:
    return store / "raw" / partner / f"{file_id}.sealed"


def raw_label(file_id: int) -> str:
    return f"raw/{file_id}"


def keep_raw(src: Path, store: Path, partner: str, file_id: int, sealer: Sealer) -> None:
    """Seal the claimed raw file into the store, block by block."""
    with src.open("rb") as plain, atomic_file(raw_path(store, partner, file_id)) as out:
        sealer.seal_stream(plain, out, raw_label(file_id))


def expire_raw(store: Path, days: float) -> int:
    """Delete sealed raw files older than the retention (all of them at 0); how many."""
    removed = 0
    cutoff = time.time() - days * 86400
    for path in (store / "raw").glob("*/*.sealed"):
        if days <= 0 or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
