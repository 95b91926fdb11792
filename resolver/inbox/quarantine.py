"""Quarantined files: listed, sent back to the inbox (`retry`), deleted (`purge`), and
deleted once `inbox.quarantine_days` have passed (`expire`, at every start and hourly
while `serve` runs): a quarantined file is the partner's raw file, PII in plaintext.

quarantine/<partner>/<id>-<name>             the file as the partner sent it
quarantine/<partner>/<id>-<name>.toml        its sidecar, if it had one
quarantine/<partner>/<id>-<name>.error.json  why (codes and places, never values)

Each action is a state change first (quarantined → retried | discarded, one transaction
that only one process can win), then the moves or deletes, which `finish` redoes after a
crash. A retried file goes back under its name, sidecar first, and is taken at once (a
rename into the inbox marks a file complete) as a new file with a new id.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from resolver.errors import QuarantineError, StoreError
from resolver.home import Home
from resolver.state.atomic import fsync_dir
from resolver.state.control import DISCARDED, QUARANTINED, RETRIED, Control, FileRecord


def safe_name(name: str) -> str:
    """A file name safe to create in quarantine (refused names may be hostile)."""
    clean = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in name)
    clean = clean.encode("utf-8", "replace").decode("utf-8", "replace")
    return clean.lstrip(".-")[:120] or "file"


@dataclass(frozen=True)
class Kept:
    """Where a quarantined file's pieces are."""

    file: Path
    sidecar: Path
    error: Path

    @classmethod
    def of(cls, home: Home, rec: FileRecord) -> Kept:
        file = home.quarantine / rec.partner / f"{rec.id}-{safe_name(rec.name)}"
        return cls(
            file, file.with_name(file.name + ".toml"), file.with_name(file.name + ".error.json")
        )

    def remove(self) -> None:
        for path in (self.file, self.sidecar, self.error):
            path.unlink(missing_ok=True)
        if self.file.parent.exists():
            fsync_dir(self.file.parent)


def original(home: Home, rec: FileRecord) -> Path:
    """Where the file was in the inbox (claimed from, or sent back to by a retry)."""
    return home.inbox / os.fsdecode(bytes.fromhex(rec.work_name))


def quarantined(control: Control, file_id: int) -> FileRecord:
    try:
        rec = control.file(file_id)
    except StoreError:
        raise QuarantineError(f"there is no file {file_id}: `resolver quarantine list`") from None
    if rec.state != QUARANTINED:
        raise QuarantineError(f"file {file_id} is not quarantined (it is {rec.state})")
    return rec


def retry(home: Home, control: Control, file_id: int) -> Path:
    """Send a quarantined file back into its partner's inbox; returns where it went."""
    rec = quarantined(control, file_id)
    kept, target = Kept.of(home, rec), original(home, rec)
    if not kept.file.is_file() or kept.file.is_symlink():
        raise QuarantineError(
            f"file {file_id} ({rec.partner}/{rec.name}) has no regular file in quarantine to"
            f" retry (it was refused as {_code(rec)}); ask the partner to send it again"
        )
    for path in (target, target.with_name(target.name + ".toml")):
        if os.path.lexists(path):
            raise QuarantineError(
                f"{path.relative_to(home.root)} is in the inbox: wait until it is taken, or"
                " move it away, then retry"
            )
    if not control.move(file_id, QUARANTINED, RETRIED):
        raise QuarantineError(f"file {file_id} was retried or purged meanwhile")
    _send_back(home, control.file(file_id))
    return target


def _send_back(home: Home, rec: FileRecord) -> None:
    """Idempotent: the sidecar, then the file, then the error are moved or removed."""
    kept, target = Kept.of(home, rec), original(home, rec)
    sidecar = target.with_name(target.name + ".toml")
    if kept.sidecar.exists() and not os.path.lexists(sidecar):
        os.replace(kept.sidecar, sidecar)
    if kept.file.exists() and not os.path.lexists(target):
        os.replace(kept.file, target)
        fsync_dir(target.parent)
    if not kept.file.exists():
        kept.remove()


def purge(home: Home, control: Control, file_ids: list[int]) -> list[FileRecord]:
    """Delete quarantined files; every one must be quarantined, else nothing is done."""
    recs = [quarantined(control, file_id) for file_id in file_ids]
    return [rec for rec in recs if _discard(home, control, rec)]


def _discard(home: Home, control: Control, rec: FileRecord) -> bool:
    if not control.move(rec.id, QUARANTINED, DISCARDED):
        return False
    Kept.of(home, rec).remove()
    return True


def expire(home: Home, control: Control, days: float, now: float | None = None) -> int:
    """Delete the files quarantined more than `days` ago (none when days is 0)."""
    if days <= 0:
        return 0
    cutoff = (now or time.time()) - days * 86400
    old = [rec for rec in control.files(QUARANTINED, limit=1_000_000) if rec.updated < cutoff]
    return sum(_discard(home, control, rec) for rec in old)


def expires(home: Home, rec: FileRecord) -> str:
    """When a quarantined file will be deleted, for a listing (UTC)."""
    days = home.settings.inbox.quarantine_days
    if days <= 0:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(rec.updated + days * 86400))


def finish(home: Home, control: Control) -> int:
    """After a crash: finish the moves of retried files and the deletes of discarded ones
    that are still in quarantine. Returns how many it finished."""
    done = 0
    for rec in control.files(RETRIED, limit=1_000_000) + control.files(DISCARDED, limit=1_000_000):
        kept = Kept.of(home, rec)
        if any(p.exists() for p in (kept.file, kept.sidecar, kept.error)):
            if rec.state == RETRIED:
                _send_back(home, rec)
            else:
                kept.remove()
            done += 1
    return done


def _code(rec: FileRecord) -> str:
    return str(json.loads(rec.error or "{}").get("code", "unknown"))
