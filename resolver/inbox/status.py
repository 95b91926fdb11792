"""What `resolver status` shows, as data: files by state, recent throughput, the latest
quarantined files (codes and places, never values) and the segments."""

from __future__ import annotations

import json
import time
from typing import Any

from resolver.home import Home
from resolver.inbox.watch import unregistered_folders
from resolver.segments.catalog import Segments
from resolver.state.control import QUARANTINED, Control, FileRecord

ERROR_FIELDS = ("code", "line", "column", "message")


def status_data(home: Home) -> dict[str, Any]:
    with Control(home.control_db) as control:
        files, rows, seconds = control.recent_throughput()
        quarantined = [quarantined_record(rec) for rec in control.files(QUARANTINED, limit=50)]
        states = control.counts_by_state()
        partners = {p.name for p in control.partners()}
    with Segments(home) as segments:
        listed = [
            {
                "name": s.name,
                "partner": s.partner,
                "version": s.version,
                "members": s.members,
                "copy_of": s.copy_of,
            }
            for s in segments.all()
        ]
    rate = round(rows / seconds, 1) if seconds else 0.0
    stray = unregistered_folders(home, partners)
    return {
        "files": states,
        "recent": {"files": files, "rows": rows, "rows_per_second": rate},
        "quarantined": quarantined,
        "segments": listed,
        "unregistered": [{"folder": f, "files": n} for f, n in stray.items()],
    }


def quarantined_record(rec: FileRecord) -> dict[str, Any]:
    error = json.loads(rec.error or "{}")
    return {
        "file_id": rec.id,
        "partner": rec.partner,
        "file": rec.name,
        "when": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(rec.updated)),
        **{k: v for k, v in error.items() if k in ERROR_FIELDS},
    }
