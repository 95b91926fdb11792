"""What `serve` does at every start, before taking new files: finish whatever a crash left.

1. temp files of interrupted atomic writes are removed (work, outbox, quarantine, store);
2. every file in an unfinished state (claimed, processed, committed) is run to the end,
   a claim interrupted between its record and its rename first completing the rename;
3. quarantined files whose move into quarantine/ was interrupted are moved, retried and
   purged ones whose moves or deletes were interrupted are finished (quarantine.py), and
   quarantined files past `inbox.quarantine_days` are deleted;
4. sealed raw files past their retention are deleted;
5. the store's staged parts of files no longer in flight are removed, and each partner's
   graph loses the parts no generation names (a change a crash cut short) and the parts a
   committed generation replaced.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from resolver.home import Home
from resolver.inbox import quarantine
from resolver.inbox.ingest import Ingest
from resolver.inbox.retention import expire_raw
from resolver.state.atomic import private_dir, remove_temp_files
from resolver.state.control import CLAIMED, QUARANTINED, FileRecord

Log = Callable[[str], None]
Resume = Callable[[FileRecord], None]


def recover(home: Home, ingest: Ingest, resume: Resume, log: Log) -> tuple[int, int]:
    """Run the steps above; `resume` takes an unfinished file to its end. Returns
    (files resumed, leftovers removed)."""
    control = ingest.control
    swept = sum(remove_temp_files(root) for root in (home.work, home.outbox, home.quarantine))
    resumed = 0
    for rec in control.unfinished():
        if rec.state == CLAIMED:
            reclaim(home, rec)
        resumed += 1
        log(f"resuming file {rec.id} ({rec.partner}/{rec.name}) from {rec.state}")
        resume(rec)
    for rec in control.files(QUARANTINED):
        if ingest.workdir(rec).exists():
            ingest.finish_quarantine(rec)
    quarantine.finish(home, control)
    gone = quarantine.expire(home, control, home.settings.inbox.quarantine_days)
    if gone:
        log(f"deleted {gone} quarantined file(s) past inbox.quarantine_days")
    expired = expire_raw(home.store, home.settings.inbox.raw_retention_days)
    if expired:
        log(f"deleted {expired} sealed raw file(s) past their retention")
    live = {rec.id for rec in control.unfinished()}
    swept += ingest.store.sweep(live)
    graphs = ingest.graphs.store
    for partner in sorted(p.name for p in (home.store / "graph").glob("*") if p.is_dir()):
        with graphs.lock(partner):
            swept += graphs.sweep(partner)
    return resumed, swept


def reclaim(home: Home, rec: FileRecord) -> None:
    """Finish a claim a crash interrupted after it was recorded: each of its steps (the
    folder, the sidecar, the file, the `.done` marker) is redone if it was not done, so a
    claim is one recoverable step and nothing of it stays behind in the inbox."""
    work = private_dir(home.work / rec.partner / str(rec.id))
    original = quarantine.original(home, rec)
    sidecar = original.with_name(original.name + ".toml")
    moved = work / "sidecar.toml"
    if rec.sidecar and not moved.exists() and sidecar.is_file() and not sidecar.is_symlink():
        os.replace(sidecar, moved)
    src = work / "src"
    if not src.exists() and not src.is_symlink() and os.path.lexists(original):
        os.replace(original, src)
    original.with_name(original.name + ".done").unlink(missing_ok=True)
