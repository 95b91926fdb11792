"""One claimed file through its states: process → commit → purge, or quarantine, or
duplicate. Every step can be redone after a crash; the control database says which.

work/<partner>/<file_id>/src           the claimed raw file (deleted at purge)
work/<partner>/<file_id>/sidecar.toml  its sidecar, if the partner sent one
work/<partner>/<file_id>/out/          the partner's outputs, published to the outbox at commit
work/<partner>/<file_id>/tmp/          decompression space
work/<partner>/<file_id>/spool/        pass one's rows, until the graph has seen them all

A file is processed and committed under its partner's graph lock: pass one spools its
rows, the graph takes its identifiers (a pending generation), pass two writes the
outputs and the store's parts; the commit records the segment versions and commits the
graph generation in one transaction.
"""

from __future__ import annotations

import errno
import hmac
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resolver.errors import SYSTEM_FAULTS, InputError, ResolverError, SegmentError
from resolver.graph.partner import FileGraph, Graphs
from resolver.graph.persons import PersonIndex
from resolver.home import Home
from resolver.inbox.crash import crash_point
from resolver.inbox.quarantine import Kept
from resolver.inbox.retention import keep_raw
from resolver.inbox.watch import inode_refusal
from resolver.keys import KeyRing
from resolver.partners import OPTOUT, partner_settings
from resolver.pipeline.job import ResolveOptions
from resolver.pipeline.read import ReadLimits, content_blocks, open_regular
from resolver.pipeline.report import Progress
from resolver.pipeline.run import Resolution, resolve_file
from resolver.pipeline.settle import CHUNK_SCHEMA, OUTPUT_COLUMNS
from resolver.pipeline.spool import Spool
from resolver.pipeline.write import chunk_writer
from resolver.segments.sidecar import Sidecar, read_sidecar
from resolver.segments.versions import (
    Change,
    data_changes,
    follow_copies,
    new_versions,
    optout_changes,
    write_snapshots,
)
from resolver.state.atomic import fsync_dir, private_dir, write_atomic
from resolver.state.control import (
    CLAIMED,
    COMMITTED,
    DUPLICATE,
    PROCESSED,
    PURGED,
    QUARANTINED,
    Control,
    FileRecord,
)
from resolver.state.seal import Sealer
from resolver.state.store import Store


class Abandoned(Exception):
    """The service was asked to stop mid-file; the file stays claimed and resumes later."""


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
        self.graphs = Graphs(home, control, keyring)
        self.stop_requested = False

    def workdir(self, rec: FileRecord) -> Path:
        return self.home.work / rec.partner / str(rec.id)

    def sealer(self, partner: str) -> Sealer:
        return Sealer(self.keyring.partner_data_key(partner))

    # -- the state machine ----------------------------------------------------------

    def run(self, file_id: int, progress: Progress | None = None) -> Outcome:
        """Take a file from whatever state it is in to a final one."""
        rec = self.control.file(file_id)
        started = time.perf_counter()
        if self.control.begin_attempt(rec.id) > self.home.settings.inbox.max_attempts:
            message = "processing this file stopped the service repeatedly; it is set aside"
            return self.quarantine(rec, refusal_error("repeated_failure", rec.name, message))
        try:
            with self.graphs.store.lock(rec.partner):
                if rec.state == CLAIMED:
                    rec = self._process(rec, progress)
                if rec.state == PROCESSED:
                    rec = self._commit(rec)
            if rec.state == COMMITTED:
                rec = self._purge(rec)
        except (InputError, SegmentError) as exc:
            return self.quarantine(rec, _error(exc, rec.name))
        except Abandoned:
            self.control.end_attempt(rec.id)
            raise  # asked to stop: the file resumes at the next start
        except OSError as exc:
            if exc.errno in SYSTEM_FAULTS:  # not the file's fault: stop, resume later
                self.control.end_attempt(rec.id)
                raise
            code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            message = f"the file could not be handled ({code}); nothing of it was kept"
            return self.quarantine(rec, refusal_error("os_error", rec.name, message))
        except Exception as exc:  # a file we fail to handle must not stall the others
            message = f"unexpected {type(exc).__name__} while processing; please report it"
            return self.quarantine(rec, refusal_error("internal_error", rec.name, message))
        seconds = time.perf_counter() - started
        return Outcome(rec.id, rec.partner, rec.name, rec.state, rec.rows or 0, seconds)

    def _process(self, rec: FileRecord, progress: Progress | None) -> FileRecord:
        work = self.workdir(rec)
        for leftover in ("out", "tmp", "spool"):
            shutil.rmtree(work / leftover, ignore_errors=True)
        self.store.discard(rec.partner, rec.id)
        self.graphs.discard(rec.id)
        src = work / "src"
        _check_regular(src, rec.name)
        if progress is not None:
            progress.begin("checking")  # the content digest, then the format and lines
        mac = self._content_mac(src, work / "sidecar.toml", rec.name)
        self.control.set_state(rec.id, CLAIMED, content_mac=mac)
        original = self.control.retried(self.control.file(rec.id))
        if original is not None:
            return self._duplicate(rec, original)
        self._sidecar(rec)  # a bad sidecar quarantines the file before any work
        self._resolve(rec, src, progress)
        crash_point("after_outputs", rec.name)
        return self.control.file(rec.id)

    def _duplicate(self, rec: FileRecord, original: FileRecord) -> FileRecord:
        """A retry of the partner's latest file: not ingested again, and the partner is
        told so in the outbox."""
        report = {
            "file": rec.name,
            "file_id": rec.id,
            "kind": rec.kind,
            "state": DUPLICATE,
            "duplicate_of": original.name,
            "message": "the same content (and sidecar) as the latest file; not ingested again",
        }
        outbox = private_dir(self.home.outbox / rec.partner)
        text = json.dumps(report, indent=2, sort_keys=True).encode() + b"\n"
        write_atomic(outbox / f"{rec.name}.report.json", text)
        shutil.rmtree(self.workdir(rec), ignore_errors=True)
        self.control.set_state(rec.id, DUPLICATE, duplicate_of=original.id)
        return self.control.file(rec.id)

    def _resolve(self, rec: FileRecord, src: Path, progress: Progress | None) -> None:
        work = self.workdir(rec)
        tmp, out = private_dir(work / "tmp"), private_dir(work / "out")
        conf = partner_settings(self.home, rec.partner, self.control)
        options = ResolveOptions.from_settings(self.home.settings, conf, tmpdir=tmp)
        resolution = resolve_file(
            src, partner=rec.partner, keyring=self.keyring, options=options, rules=self.graphs.rules
        )
        resolution.report.file = rec.name
        spool = Spool(work / "spool", self.sealer(rec.partner), f"{rec.partner}/{rec.id}/spool")
        with resolution:
            resolution.spool(spool, progress, lambda: self._check_stop(rec.name))
        readmit = self._sidecar(rec).readmit_forgotten
        if progress is not None:
            progress.begin("linking")
        taken = self.graphs.take(rec.partner, rec.id, spool, readmit, rec.kind == OPTOUT)
        crash_point("graph_staged", rec.name)
        if progress is not None:
            progress.begin("writing", resolution.report.rows, "rows")
        self._settle(rec, resolution, spool, taken, out, progress)
        report = resolution.report
        report.graph = taken.change.counts() if taken.generation is not None else {}
        report.write(out / f"{rec.name}.report.json", file_id=rec.id, kind=rec.kind)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(spool.folder, ignore_errors=True)
        counts = {"rows": report.rows, "resolved": report.resolved, "rejected": report.rejected}
        self.control.set_state(rec.id, PROCESSED, seconds=report.seconds, **counts)

    def _check_stop(self, name: str) -> None:
        if self.stop_requested:
            raise Abandoned(name)

    def _settle(
        self,
        rec: FileRecord,
        resolution: Resolution,
        spool: Spool,
        taken: FileGraph,
        out: Path,
        progress: Progress | None,
    ) -> None:
        """Pass two: the partner's resolved file, the store's members, retired IDs."""
        fmt = self.home.settings.inbox.output_format
        staging = private_dir(self.store.staging(rec.id))  # a header-only file has no parts
        output = out / f"{rec.name}.resolved.{fmt}"
        empty = {c: CHUNK_SCHEMA[c] for c in OUTPUT_COLUMNS}
        with chunk_writer(output, fmt, empty) as writer:
            for n, chunk in enumerate(resolution.settle(spool, taken.keyed, taken.settled)):
                self._check_stop(rec.name)
                self.store.write_members(staging, n, chunk)
                writer.write(chunk.select(OUTPUT_COLUMNS))
                if progress is not None:
                    progress.advance(chunk.height)
                if n == 0:
                    crash_point("mid_processing", rec.name)
        retired = self.graphs.retired(rec.partner, taken.state, taken.change)
        if not retired.is_empty():
            with chunk_writer(out / f"{rec.name}.retired.csv", "csv") as writer:
                writer.write(retired)

    def _commit(self, rec: FileRecord) -> FileRecord:
        self.store.publish(rec.partner, rec.id)
        index = PersonIndex(self.graphs.pending_state(rec.partner, rec.id))
        changes = self._changes(rec, index)
        changes += follow_copies(self.control, self.store, index, changes)
        write_snapshots(self.store, f"f{rec.id}", changes)
        crash_point("mid_commit", rec.name)
        self._publish_outputs(rec)
        also = self.graphs.committing(rec.id)
        self.control.commit(rec.id, new_versions(rec.partner, changes), also)
        crash_point("before_purge", rec.name)
        return self.control.file(rec.id)

    def _changes(self, rec: FileRecord, index: PersonIndex) -> list[Change]:
        if rec.kind == OPTOUT:
            return optout_changes(self.control, self.store, index, rec.partner, rec.id)
        file = (rec.partner, rec.id)
        return data_changes(self.control, self.store, index, file, self._sidecar(rec))

    def _sidecar(self, rec: FileRecord) -> Sidecar:
        path = self.workdir(rec) / "sidecar.toml"
        return read_sidecar(path, rec.name) if path.exists() else Sidecar()

    def _publish_outputs(self, rec: FileRecord) -> None:
        out = self.workdir(rec) / "out"
        outbox = private_dir(self.home.outbox / rec.partner)
        if out.exists():
            for item in sorted(out.iterdir()):
                if not item.name.startswith("."):
                    os.replace(item, outbox / item.name)
            fsync_dir(outbox)

    def _purge(self, rec: FileRecord) -> FileRecord:
        """Delete the raw file (kept sealed first when a retention is set)."""
        work = self.workdir(rec)
        src = work / "src"
        if self.home.settings.inbox.raw_retention_days > 0 and src.exists():
            keep_raw(src, self.home.store, rec.partner, rec.id, self.sealer(rec.partner))
        shutil.rmtree(work, ignore_errors=True)
        if work.parent.exists():
            fsync_dir(work.parent)
        self.control.set_state(rec.id, PURGED)
        return self.control.file(rec.id)

    # -- quarantine -----------------------------------------------------------------

    def quarantine(self, rec: FileRecord, error: dict[str, Any]) -> Outcome:
        """Move the file to quarantine/<partner>/ with error.json; other files go on."""
        self.control.set_state(rec.id, QUARANTINED, error=json.dumps(error, sort_keys=True))
        with self.graphs.store.lock(rec.partner):
            self.graphs.discard(rec.id)
        self.finish_quarantine(self.control.file(rec.id))
        return Outcome(rec.id, rec.partner, rec.name, QUARANTINED, error=error)

    def finish_quarantine(self, rec: FileRecord) -> None:
        """Idempotent: safe to redo after a crash."""
        private_dir(self.home.quarantine / rec.partner)
        kept = Kept.of(self.home, rec)
        work = self.workdir(rec)
        src, sidecar = work / "src", work / "sidecar.toml"
        if sidecar.is_file() and not sidecar.is_symlink():
            os.replace(sidecar, kept.sidecar)  # kept with the file, for a retry
        if src.exists() or src.is_symlink():
            os.replace(src, kept.file)
        error = json.loads(rec.error or "{}")
        text = json.dumps(error, indent=2, sort_keys=True).encode() + b"\n"
        write_atomic(kept.error, text)
        shutil.rmtree(work, ignore_errors=True)
        self.store.discard(rec.partner, rec.id)

    # -- checks ---------------------------------------------------------------------

    def _content_mac(self, src: Path, sidecar: Path, name: str) -> str:
        """A keyed digest of the file's (decompressed) content and its sidecar, for
        duplicate detection (the same rows for another segment are another file). Keyed,
        so a digest of a one-identifier file is not that identifier's SHA-256."""
        inbox = self.home.settings.inbox
        limits = ReadLimits(
            max_file_bytes=inbox.max_file_bytes,
            max_decompressed_bytes=inbox.max_decompressed_bytes,
            max_compression_ratio=inbox.max_compression_ratio,
        )
        digest = hmac.new(self.keyring.subkey("content"), digestmod="sha256")
        with open_regular(src, name) as raw:
            for block in content_blocks(raw, limits, name):
                digest.update(block)
        if sidecar.exists():
            digest.update(b"\0sidecar\0" + sidecar.read_bytes())
        return digest.hexdigest()


def _check_regular(src: Path, name: str) -> None:
    """Only a regular file with one link is read; never follow a link or open a FIFO."""
    try:
        info = src.lstat()
    except FileNotFoundError:
        raise InputError("vanished", name, "the claimed file is gone") from None
    refused = inode_refusal(info)
    if refused is not None:
        raise InputError(refused[0], name, refused[1])


def refusal_error(code: str, name: str, message: str | None = None) -> dict[str, Any]:
    """An error.json body for a file refused without a line or column."""
    found: dict[str, Any] = {"code": code, "file": name, "line": None, "column": None}
    return found if message is None else found | {"message": message}


def _error(exc: ResolverError, name: str) -> dict[str, Any]:
    if isinstance(exc, InputError):
        return exc.to_dict() | {"file": name}
    return refusal_error("segment_conflict", name, str(exc))
