"""Segment memberships from committed files, as new segment versions.

- A data file is by default a **full refresh** of every segment it names: the segment's new
  members are exactly the file's rows assigned to it (rows whose action is `delete` left).
- A sidecar (`X.toml`, `mode = "incremental"`) makes it **incremental**: each row's
  `action` (`add`, the default, or `delete`) changes the current members; the last action
  for a person in a segment wins.
- An **opt-out** file (`inbox/<partner>/optout/`) removes its people from every segment of
  the partner. They stay out until a later file adds them again.
- A copy of a segment (`segments copy`) follows its source: each new version of the source
  gives the copy a new version with the same members, under the copy's own name.

Members are persons of the partner's graph. A version's snapshot keeps the member *rows*
(the node ids of their identifiers), so who the members are follows the graph: when two
persons merge, a segment holding one holds the merged person. Counts (members, added,
removed) are persons, as the graph stood when the version was made.

A version is made only when the members change (or the segment is new). Its snapshot is
written before the transaction that records it, so the transaction is the commit point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from resolver.errors import SegmentError
from resolver.graph.persons import PersonIndex
from resolver.kinds import NODE_ID_COLUMNS
from resolver.segments.names import check_name, normalize_name
from resolver.segments.sidecar import FULL, Sidecar
from resolver.state.control import Control, NewVersion, SegmentRecord
from resolver.state.store import Store


@dataclass
class Change:
    """A new version of one segment. `segment_id` is None for a segment the file creates."""

    segment_id: int | None
    name: str
    version: int
    members: pl.DataFrame  # member rows: node ids
    persons: int
    added: int
    removed: int
    snapshot: str = ""
    source_index: int | None = None  # for copies: the change they follow


TRIPLE = list(NODE_ID_COLUMNS)


def _memberships(
    store: Store, partner: str, file_id: int, sidecar: Sidecar, index: PersonIndex
) -> pl.DataFrame:
    """(node ids, pid, segment, action) of the file: one row per membership claim."""
    frame = store.memberships(partner, file_id).collect()
    if sidecar.segment is not None:
        named = pl.lit([sidecar.segment], dtype=pl.List(pl.String))
        frame = frame.with_columns(named.alias("segments"))
    frame = frame.with_columns(pl.Series("pid", index.pids(frame)))
    return (
        frame.explode("segments")
        .drop_nulls("segments")
        .with_columns(
            pl.col("segments").str.replace_all(r"\s+", " ").str.strip_chars().alias("segment"),
            pl.col("action").fill_null("add"),
        )
        .filter((pl.col("segment") != "") & (pl.col("pid") >= 0))
        .select(*TRIPLE, "pid", "segment", "action")
    )


def _existing(control: Control, store: Store, segment: SegmentRecord | None) -> pl.DataFrame:
    if segment is None or segment.version == 0:
        return store.members(None)
    row = control.version(segment.id, segment.version)
    return store.members(None if row is None else row.path)


def _persons(index: PersonIndex, rows: pl.DataFrame) -> pl.Series:
    pids = pl.Series("pid", index.pids(rows))
    return pids.filter(pids >= 0).unique()


def _diff(index: PersonIndex, old: pl.DataFrame, new: pl.DataFrame) -> tuple[int, int, int]:
    """(persons, added, removed) between two versions' member rows, in today's graph."""
    before, after = _persons(index, old), _persons(index, new)
    added = int((~after.is_in(before.implode())).sum())
    removed = int((~before.is_in(after.implode())).sum())
    return len(after), added, removed


def data_changes(
    control: Control,
    store: Store,
    index: PersonIndex,
    file: tuple[str, int],
    sidecar: Sidecar,
) -> list[Change]:
    """One change per segment the file (partner, file id) names. Spellings that differ
    only in case and spacing ("Movie Fans", "movie  fans") are one segment, shown as its
    existing name or the file's first spelling."""
    partner, file_id = file
    claims = _memberships(store, partner, file_id, sidecar, index)
    spellings = claims.get_column("segment").unique(maintain_order=True).to_list()
    if sidecar.segment is not None and not spellings:  # a header-only file naming its segment
        spellings = [sidecar.segment]
    names: dict[str, str] = {}
    for spelling in spellings:
        names.setdefault(normalize_name(check_name(spelling)), check_name(spelling))
    norm = pl.col("segment").replace_strict({s: normalize_name(s) for s in spellings})
    grouped = claims.with_columns(norm.alias("norm"))
    changes: list[Change] = []
    for key, name in sorted(names.items()):
        rows = grouped.filter(pl.col("norm") == key)
        segment, name, old, new = _new_members(
            control, store, index, (partner, name), rows, sidecar
        )
        _append(changes, index, segment, name, old, new)
    return changes


def _new_members(
    control: Control,
    store: Store,
    index: PersonIndex,
    named: tuple[str, str],
    rows: pl.DataFrame,
    sidecar: Sidecar,
) -> tuple[SegmentRecord | None, str, pl.DataFrame, pl.DataFrame]:
    """(segment, name, old member rows, new member rows) of one segment a data file names.
    A person's last action in the file decides whether they are in."""
    partner, name = named
    segment = control.partner_segment(partner, normalize_name(name))
    if segment is not None and segment.source_id is not None:
        raise SegmentError(f"{name!r} is a copy of another segment; files cannot change it")
    old = _existing(control, store, segment)
    last = rows.group_by("pid").agg(pl.col("action").last())
    adds = last.filter(pl.col("action") == "add").get_column("pid")
    added = rows.filter(pl.col("pid").is_in(adds.implode()) & (pl.col("action") == "add"))
    added = added.select(TRIPLE)
    label = segment.given or segment.name if segment else name
    if sidecar.mode == FULL:
        return segment, label, old, added
    deletes = last.filter(pl.col("action") == "delete").get_column("pid")
    keep = ~pl.Series(index.pids(old)).is_in(deletes.implode())
    return segment, label, old, pl.concat([old.filter(keep), added]).unique()


def optout_changes(
    control: Control, store: Store, index: PersonIndex, partner: str, file_id: int
) -> list[Change]:
    people = store.memberships(partner, file_id).collect()
    out = pl.Series(index.pids(people)).unique()
    changes: list[Change] = []
    for segment in control.segments(partner):
        if segment.source_id is not None:
            continue  # copies follow their source
        old = _existing(control, store, segment)
        keep = ~pl.Series(index.pids(old)).is_in(out.implode())
        _append(changes, index, segment, segment.name, old, old.filter(keep))
    return changes


def erased_changes(
    control: Control,
    store: Store,
    indexes: tuple[PersonIndex, PersonIndex],
    partner: str,
    erased: np.ndarray,
) -> list[Change]:
    """After an erasure: every segment of the partner without the rows that carried an
    erased identifier (`erased`: a mask over node ids). `indexes`: the graph before and
    after, so the removed members are counted as they were."""
    before, after = indexes
    changes: list[Change] = []
    for segment in control.segments(partner):
        if segment.source_id is not None:
            continue  # copies follow their source
        old = _existing(control, store, segment)
        hit = np.zeros(old.height, dtype=bool)
        for column in TRIPLE:
            node = old.get_column(column).fill_null(-1).to_numpy()
            hit |= (node >= 0) & erased[np.maximum(node, 0)]
        if hit.any():
            new = old.filter(pl.Series(~hit))
            persons, _, _ = _diff(after, new, new)
            _, _, removed = _diff(before, old, new)
            version = segment.version + 1
            changes.append(Change(segment.id, segment.name, version, new, persons, 0, removed))
    return changes


def _same_rows(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    old, new = old.select(TRIPLE).unique(), new.select(TRIPLE).unique()
    if old.height != new.height:
        return False
    return old.join(new, on=TRIPLE, how="anti", nulls_equal=True).is_empty()


def _append(
    changes: list[Change],
    index: PersonIndex,
    segment: SegmentRecord | None,
    name: str,
    old: pl.DataFrame,
    new: pl.DataFrame,
) -> None:
    persons, added, removed = _diff(index, old, new)
    if segment is not None and added == 0 and removed == 0 and _same_rows(old, new):
        return
    version = 1 if segment is None else segment.version + 1
    segment_id = None if segment is None else segment.id
    changes.append(Change(segment_id, name, version, new.unique(), persons, added, removed))


def follow_copies(
    control: Control, store: Store, index: PersonIndex, changes: list[Change]
) -> list[Change]:
    """Changes of the copies of the changed segments (same members, own versions)."""
    extra: list[Change] = []
    for position, change in enumerate(changes):
        if change.segment_id is None:
            continue
        for copy in control.copies(change.segment_id):
            old = _existing(control, store, copy)
            persons, added, removed = _diff(index, old, change.members)
            extra.append(
                Change(
                    copy.id,
                    copy.name,
                    copy.version + 1,
                    change.members,
                    persons,
                    added,
                    removed,
                    source_index=position,
                )
            )
    return extra


def write_snapshots(store: Store, stem: str, changes: list[Change]) -> None:
    """Each change's snapshot, named `segments/<stem>-<n>.parquet` (stem: "f<file id>")."""
    for n, change in enumerate(changes):
        if change.source_index is not None:
            change.snapshot = changes[change.source_index].snapshot
            continue
        change.snapshot = store.snapshot_name(stem, n)
        store.write_snapshot(change.snapshot, change.members)


def new_versions(partner: str, changes: list[Change]) -> list[NewVersion]:
    """The rows that record `changes` (after their snapshots are written)."""
    return [
        NewVersion(
            segment_id=change.segment_id,
            partner=partner,
            name=change.name,
            norm=normalize_name(change.name),
            version=change.version,
            members=change.persons,
            added=change.added,
            removed=change.removed,
            path=change.snapshot,
        )
        for change in changes
    ]


def copy_segment(control: Control, name: str, new_name: str) -> SegmentRecord:
    """A copy of a segment under a new name: same members now, and it follows the source's
    future versions. It has its own name, versions and distributions."""
    source = control.segment(normalize_name(name))
    if source is None:
        raise SegmentError(f"there is no segment named {name!r}")
    if source.source_id is not None:
        source = control.segment_by_id(source.source_id)
    clean = check_name(new_name)
    return control.segment_by_id(control.create_copy(source, clean, normalize_name(clean)))


def rename_segment(control: Control, name: str, new_name: str) -> SegmentRecord:
    record = control.segment(normalize_name(name))
    if record is None:
        raise SegmentError(f"there is no segment named {name!r}")
    clean = check_name(new_name)
    control.rename_segment(record.id, clean, normalize_name(clean))
    return control.segment_by_id(record.id)
