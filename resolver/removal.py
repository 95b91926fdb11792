"""Removing a partner and everything Tessera holds for it (`resolver partners remove`).

What goes: its registration; its inbox (files not yet taken), outbox (resolved files and
reports), quarantine and work folders; its identity graph (and with it the sealed match
keys); its committed parts and sealed raw files; its segments, their versions and
snapshots; the records of its files. Its person IDs stop meaning anyone, so its name is
retired: registering it again would hand the same IDs to other people.

It refuses while `serve` runs (it takes the service's lock) and while any of its segments
is distributed (the distributor's ledger, read as a file: the resolver imports nothing
of the distributor): undistribute them first.

Three steps, each safe to crash after, and `remove` again finishes one a crash cut short:
1. one transaction: the registration is replaced by a retired name (`removing`), so no
   file of the partner is taken any more;
2. its folders and files are deleted;
3. one transaction: its rows (files, segments, versions, graph generations and parts)
   are deleted and the retired name is marked `removed`.
"""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from resolver.errors import OptionError
from resolver.home import Home
from resolver.inbox.service import serve_lock
from resolver.partners import check_partner_name
from resolver.state.control import QUARANTINED, Control
from resolver.state.graphdb import GraphDB


@dataclass(frozen=True)
class PartnerData:
    """What removing a partner deletes, counted (never values), for the confirmation."""

    partner: str
    files: int = 0
    waiting: int = 0
    outbox: int = 0
    quarantined: int = 0
    identifiers: int = 0
    segments: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        shown = ", ".join(repr(s) for s in self.segments) or "none"
        return (
            f"partner {self.partner}: {self.files} file record(s), {self.waiting} file(s)"
            f" waiting in its inbox, {self.outbox} in its outbox, {self.quarantined} in"
            f" quarantine, an identity graph of {self.identifiers:,} identifiers, and"
            f" {len(self.segments)} segment(s) ({shown}); its person IDs stop meaning"
            " anyone and its name cannot be registered again"
        )


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def survey(home: Home, name: str) -> PartnerData:
    """What `remove` would delete."""
    with Control(home.control_db) as control:
        if control.partner(name) is None and _retired(control, name) != REMOVING:
            raise OptionError(f"there is no partner {name}: `resolver partners list`")
        counts = control.counts_by_state(name)
        segments = [s.name for s in control.segments(name)]
        current = GraphDB(control.database).current(name)
    return PartnerData(
        partner=name,
        files=sum(counts.values()),
        waiting=_count(home.inbox / name),
        outbox=_count(home.outbox / name),
        quarantined=counts.get(QUARANTINED, 0),
        identifiers=current.nodes if current is not None else 0,
        segments=segments,
    )


REMOVING, REMOVED = "removing", "removed"


def _retired(control: Control, name: str) -> str | None:
    found = control.retired_partner(name)
    return None if found is None else found[0]


def remove_partner(home: Home, name: str, distributed: list[str]) -> PartnerData:
    """Remove the partner (see the module doc). `distributed`: its segments that are
    distributed (distributed_segments), which refuse the removal."""
    check_partner_name(name)
    found = survey(home, name)
    if distributed:
        undo = ", ".join(
            "`" + shlex.join(["distributor", "undistribute", s, "--account", "ACCOUNT"]) + "`"
            for s in distributed
        )
        raise OptionError(
            f"partner {name}'s segments are distributed ({', '.join(map(repr, distributed))}):"
            f" undistribute them first ({undo}); `distributor status` shows the accounts"
        )
    with serve_lock(home), Control(home.control_db) as control:
        with control.database.transaction() as db:  # 1
            db.execute(
                "INSERT OR REPLACE INTO retired_partners VALUES (?, ?, ?)",
                (name, REMOVING, time.time()),
            )
            db.execute("DELETE FROM partners WHERE name = ?", (name,))
        snapshots = _snapshots(control, name)
        for folder in _folders(home, name):  # 2
            shutil.rmtree(folder, ignore_errors=True)
        for path in snapshots:
            (home.store / path).unlink(missing_ok=True)
        with control.database.transaction() as db:  # 3
            _delete_rows(db, name)
            db.execute("UPDATE retired_partners SET state = ? WHERE name = ?", (REMOVED, name))
    return found


def _folders(home: Home, name: str) -> list[Path]:
    roots = (home.inbox, home.outbox, home.quarantine, home.work)
    stores = ("ingest", "graph", "raw")
    return [root / name for root in roots] + [home.store / kind / name for kind in stores]


def _snapshots(control: Control, name: str) -> list[str]:
    rows = control.database.rows(
        "SELECT DISTINCT v.path FROM segment_versions v JOIN segments s ON s.id = v.segment_id"
        " WHERE s.partner = ?",
        (name,),
    )
    return [str(row["path"]) for row in rows]


def _delete_rows(db: sqlite3.Connection, name: str) -> None:
    db.execute(
        "DELETE FROM segment_versions WHERE segment_id IN"
        " (SELECT id FROM segments WHERE partner = ?)",
        (name,),
    )
    for table in ("segments", "files", "graph_parts", "graph_generations"):
        db.execute(f"DELETE FROM {table} WHERE partner = ?", (name,))  # noqa: S608 - ours


def distributed_segments(home: Home, segments: list[str]) -> list[str]:
    """Which of `segments` the distributor's ledger (state/distributor.db) distributes."""
    ledger = home.state / "distributor.db"
    if not ledger.exists() or not segments:
        return []
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        try:
            rows = db.execute("SELECT DISTINCT segment FROM distributions").fetchall()
        except sqlite3.OperationalError:  # a ledger with no distributions table yet
            return []
    taken = {str(row[0]).casefold() for row in rows}
    return [s for s in segments if s.casefold() in taken]
