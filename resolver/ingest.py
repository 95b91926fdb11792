"""One claimed file through its states: process → commit → purge, or quarantine, or
duplicate. Every step can be redone after a crash; the control database says which.

work/<partner>/<file_id>/src           the claimed raw file (deleted at purge)
work/<partner>/<file_id>/sidecar.toml  its sidecar, if the partner sent one
work/<partner>/<file_id>/out/          the partner's outputs, published to the outbox at commit
work/<partner>/<file_id>/tmp/          decompression space
"""

from __future__ import annotations

import gzip
import hmac
import json
import os
import shutil
import signal
import stat
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from resolver.control import (
    CLAIMED,
    COMMITTED,
    DUPLICATE,
    PROCESSED,
    PURGED,
    QUARANTINED,
    Control,
    FileRecord,
)
from resolver.errors import InputError, ResolverError, SegmentError
from resolver.home import Home
from resolver.inbox import inode_refusal
from resolver.keys import KeyRing
from resolver.output import atomic_file, chunk_writer, fsync_dir, write_bytes_atomic
from resolver.pipeline import resolve_file
from resolver.reader import GZIP_MAGIC
from resolver.segments import (
    Sidecar,
    data_changes,
    follow_copies,
    optout_changes,
    read_sidecar,
    record,
    write_snapshots,
)
from resolver.store import Store

OUTPUT_COLUMNS = ["row", "person_id", "reject_reason"]
Progress = Callable[[int], None]


class Abandoned(Exception):
    """The service was asked to stop mid-file; the file stays claimed and resumes later."""


def crash_point(name: str) -> None:
    """Kill the process here when a crash test asks for it (TESSERA_TESTING=1 only)."""
    if os.environ.get("TESSERA_TESTING") == "1" and os.environ.get("TESSERA_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Outcome:
    file_id: int
    partner: str
    name: str
    state: str
    rows: int = 0
    seconds: float = 0.0
    error: dict[str, Any] | None = None


class Ingest:
    """Runs files through their states. One per `serve` process."""

    def __init__(self, home: Home, control: Control, keyring: KeyRing) -> None:
        self.home = home
        self.control = control
        self.keyring = keyring
        self.store = Store(home.store)
        self.settings = home.settings
        self.stop_requested = False

    def workdir(self, record_: FileRecord) -> Path:
        return self.home.work / record_.partner / str(record_.id)

    # -- the state machine ----------------------------------------------------------

    def run(self, file_id: int, progress: Progress | None = None) -> Outcome:
        """Take a file from whatever state it is in to a final one."""
        rec = self.control.file(file_id)
        started = time.perf_counter()
        try:
            if rec.state == CLAIMED:
                rec = self._process(rec, progress)
            if rec.state == PROCESSED:
                rec = self._commit(rec)
            if rec.state == COMMITTED:
                rec = self._purge(rec)
        except (InputError, SegmentError) as exc:
            return self.quarantine(rec, _error(exc, rec.name))
        except (Abandoned, OSError):
            raise  # stop, or a system fault (disk full...): the file resumes at next start
        except Exception as exc:  # a file we fail to handle must not stall the others
            error = {
                "code": "internal_error",
                "file": rec.name,
                "line": None,
                "column": None,
                "message": f"unexpected {type(exc).__name__} while processing; please report it",
            }
            return self.quarantine(rec, error)
        row = self.control.db.execute("SELECT rows FROM files WHERE id = ?", (rec.id,)).fetchone()
        return Outcome(
            rec.id,
            rec.partner,
            rec.name,
            rec.state,
            rows=int(row["rows"] or 0),
            seconds=time.perf_counter() - started,
        )

    def _process(self, rec: FileRecord, progress: Progress | None) -> FileRecord:
        work = self.workdir(rec)
        for leftover in ("out", "tmp"):
            shutil.rmtree(work / leftover, ignore_errors=True)
        self.store.discard(rec.partner, rec.id)
        src = work / "src"
        self._check_regular(src, rec.name)
        mac = self._content_mac(src, rec.name)
        self.control.set_state(rec.id, CLAIMED, content_mac=mac)
        original = self.control.original(rec.partner, rec.kind, mac, rec.id)
        if original is not None:
            shutil.rmtree(work, ignore_errors=True)
            self.control.set_state(rec.id, DUPLICATE, duplicate_of=original)
            return self.control.file(rec.id)
        sidecar = work / "sidecar.toml"
        if sidecar.exists():
            read_sidecar(sidecar, rec.name)
        self._resolve(rec, src, progress)
        crash_point("after_outputs")
        return self.control.file(rec.id)

    def _resolve(self, rec: FileRecord, src: Path, progress: Progress | None) -> None:
        work = self.workdir(rec)
        (work / "tmp").mkdir(mode=0o700, exist_ok=True)
        (work / "out").mkdir(mode=0o700, exist_ok=True)
        conf = self._partner_conf(rec.partner)
        fmt = str(self.settings.get("inbox.output_format"))
        resolution = resolve_file(
            src,
            partner=rec.partner,
            keyring=self.keyring,
            region=str(conf.get("region") or self.settings.get("resolver.default_region")),
            profile=str(self.settings.get("resolver.profile")),
            chunk_rows=int(self.settings.get("resolver.chunk_rows")),
            aliases=conf.get("aliases"),
            max_line_bytes=int(self.settings.get("resolver.max_line_bytes")),
            max_decompressed_bytes=int(self.settings.get("inbox.max_decompressed_bytes")),
            max_compression_ratio=float(self.settings.get("inbox.max_compression_ratio")),
            tmpdir=work / "tmp",
        )
        resolution.report.file = rec.name
        key = self.keyring.partner_data_key(rec.partner)
        staging = self.store.staging(rec.id)
        output = work / "out" / f"{rec.name}.resolved.{fmt}"
        with resolution, chunk_writer(output, fmt) as writer:
            for n, chunk in enumerate(resolution.chunks(progress)):
                if self.stop_requested:
                    raise Abandoned(rec.name)
                self.store.write_part(staging, n, chunk, key, f"{rec.partner}/{rec.id}")
                writer.write(chunk.select(OUTPUT_COLUMNS))
                if n == 0:
                    crash_point("mid_processing")
        report = resolution.report
        data = report.to_dict() | {"file_id": rec.id, "kind": rec.kind}
        write_bytes_atomic(
            work / "out" / f"{rec.name}.report.json",
            json.dumps(data, indent=2, sort_keys=True).encode() + b"\n",
        )
        shutil.rmtree(work / "tmp", ignore_errors=True)
        self.control.set_state(
            rec.id,
            PROCESSED,
            rows=report.rows,
            resolved=report.resolved,
            rejected=report.rejected,
            seconds=report.seconds,
        )

    def _commit(self, rec: FileRecord) -> FileRecord:
        self.store.publish(rec.partner, rec.id)
        if rec.kind == "optout":
            changes = optout_changes(self.control, self.store, rec.partner, rec.id)
        else:
            sidecar_path = self.workdir(rec) / "sidecar.toml"
            sidecar = read_sidecar(sidecar_path, rec.name) if sidecar_path.exists() else Sidecar()
            changes = data_changes(self.control, self.store, rec.partner, rec.id, sidecar)
        changes += follow_copies(self.control, self.store, changes)
        write_snapshots(self.store, rec.id, changes)
        crash_point("mid_commit")
        self._publish_outputs(rec)
        with self.control.transaction():
            record(self.control, rec.partner, rec.id, changes)
            self.control._set(self.control.db, rec.id, COMMITTED)
        crash_point("before_purge")
        return self.control.file(rec.id)

    def _publish_outputs(self, rec: FileRecord) -> None:
        out = self.workdir(rec) / "out"
        outbox = self.home.outbox / rec.partner
        outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        if out.exists():
            for item in sorted(out.iterdir()):
                if not item.name.startswith("."):
                    os.replace(item, outbox / item.name)
            fsync_dir(outbox)

    def _purge(self, rec: FileRecord) -> FileRecord:
        """Delete the raw file: no raw PII stays after commit. With
        `inbox.raw_retention_days` > 0 it is first kept sealed (AES-256-GCM, the partner's
        data key) in store/raw/, and deleted when the retention has passed."""
        work = self.workdir(rec)
        src = work / "src"
        if float(self.settings.get("inbox.raw_retention_days")) > 0 and src.exists():
            target = self.store.root / "raw" / rec.partner / f"{rec.id}.sealed"
            seal_file(src, target, self.keyring.partner_data_key(rec.partner), f"raw/{rec.id}")
        shutil.rmtree(work, ignore_errors=True)
        if work.parent.exists():
            fsync_dir(work.parent)
        self.control.set_state(rec.id, PURGED)
        return self.control.file(rec.id)

    # -- quarantine -----------------------------------------------------------------

    def quarantine(self, rec: FileRecord, error: dict[str, Any]) -> Outcome:
        """Move the file to quarantine/<partner>/ with error.json; other files go on."""
        self.control.set_state(rec.id, QUARANTINED, error=json.dumps(error, sort_keys=True))
        self.finish_quarantine(self.control.file(rec.id))
        return Outcome(rec.id, rec.partner, rec.name, QUARANTINED, error=error)

    def finish_quarantine(self, rec: FileRecord) -> None:
        """Idempotent: safe to redo after a crash."""
        folder = self.home.quarantine / rec.partner
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / f"{rec.id}-{_safe(rec.name)}"
        work = self.workdir(rec)
        src = work / "src"
        if src.exists() or src.is_symlink():
            os.replace(src, target)
        row = self.control.db.execute("SELECT error FROM files WHERE id = ?", (rec.id,)).fetchone()
        error = json.loads(row["error"] or "{}")
        write_bytes_atomic(
            folder / f"{target.name}.error.json",
            json.dumps(error, indent=2, sort_keys=True).encode() + b"\n",
        )
        shutil.rmtree(work, ignore_errors=True)
        self.store.discard(rec.partner, rec.id)

    # -- checks ---------------------------------------------------------------------

    @staticmethod
    def _check_regular(src: Path, name: str) -> None:
        """Only a regular file with one link is read; never follow a link or open a FIFO."""
        try:
            info = src.lstat()
        except FileNotFoundError:
            raise InputError("vanished", name, "the claimed file is gone") from None
        refused = inode_refusal(info)
        if refused is not None:
            raise InputError(refused[0], name, refused[1])

    def _content_mac(self, src: Path, name: str) -> str:
        """A keyed digest of the file's (decompressed) content, for duplicate detection.
        Keyed, so a digest of a one-identifier file is not that identifier's SHA-256."""
        limit_size = int(self.settings.get("inbox.max_file_bytes"))
        size = src.stat().st_size
        if size > limit_size:
            raise InputError("too_large", name, f"the file exceeds {limit_size} bytes")
        limit = int(self.settings.get("inbox.max_decompressed_bytes"))
        ratio = float(self.settings.get("inbox.max_compression_ratio"))
        digest = hmac.new(self.keyring.subkey("content"), digestmod="sha256")
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as raw:
            if not stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                raise InputError("not_regular_file", name, "only regular files are accepted")
            gzipped = raw.read(2) == GZIP_MAGIC[:2]
            raw.seek(0)
            try:
                stream: Any = gzip.GzipFile(fileobj=raw) if gzipped else raw
                total = 0
                while block := stream.read(1 << 22):
                    total += len(block)
                    if gzipped and (total > limit or total > ratio * max(size, 1)):
                        raise InputError(
                            "decompression_bomb",
                            name,
                            "the gzip file expands beyond the configured limits",
                        )
                    digest.update(block)
            except (OSError, EOFError, zlib.error) as exc:
                raise InputError(
                    "unreadable", name, f"not a valid gzip file ({type(exc).__name__})"
                ) from None
        return digest.hexdigest()

    def _partner_conf(self, partner: str) -> dict[str, Any]:
        table = self.settings.section("partners").get(partner, {})
        conf = dict(table) if isinstance(table, dict) else {}
        row = self.control.db.execute(
            "SELECT region FROM partners WHERE name = ?", (partner,)
        ).fetchone()
        if row is not None and "region" not in conf:
            conf["region"] = row["region"]
        return conf


_BLOCK = 1 << 24


def seal_file(src: Path, target: Path, key: bytes, label: str) -> None:
    """Stream a file into sealed blocks: for each 16 MiB block, a 4-byte length, a 12-byte
    nonce and its AES-256-GCM ciphertext (the block number and label bound as data)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    aead = AESGCM(key)
    with src.open("rb") as plain, atomic_file(target) as out:
        number = 0
        while block := plain.read(_BLOCK):
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, block, f"{label}/{number}".encode())
            out.write(len(sealed).to_bytes(4, "big") + nonce + sealed)
            number += 1


def unseal_file(path: Path, key: bytes, label: str) -> bytes:
    aead, data, out, number, at = AESGCM(key), path.read_bytes(), bytearray(), 0, 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        nonce, sealed = data[at + 4 : at + 16], data[at + 16 : at + 16 + size]
        out += aead.decrypt(nonce, sealed, f"{label}/{number}".encode())
        at, number = at + 16 + size, number + 1
    return bytes(out)


def expire_raw(store_root: Path, days: float) -> int:
    """Delete sealed raw files older than the retention; returns how many."""
    removed = 0
    cutoff = time.time() - days * 86400
    for path in (store_root / "raw").glob("*/*.sealed"):
        if days <= 0 or path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _error(exc: ResolverError, name: str) -> dict[str, Any]:
    if isinstance(exc, InputError):
        data = exc.to_dict()
        data["file"] = name
        return data
    return {"code": "segment_conflict", "file": name, "message": str(exc), "line": None}


def _safe(name: str) -> str:
    """A file name safe to create in quarantine (refused names may be hostile)."""
    clean = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in name)
    clean = clean.encode("utf-8", "replace").decode("utf-8", "replace")
    return clean.lstrip(".-")[:120] or "file"
