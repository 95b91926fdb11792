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

A version is made only when the members change (or the segment is new). Its snapshot is
written before the transaction that records it, so the transaction is the commit point.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from resolver.errors import SegmentError
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
    members: pl.Series
    added: int
    removed: int
    snapshot: str = ""
    source_index: int | None = None  # for copies: the change they follow


def _memberships(store: Store, partner: str, file_id: int, sidecar: Sidecar) -> pl.DataFrame:
    """(person_key, segment, action) of the file: one row per membership claim."""
    frame = store.memberships(partner, file_id).collect()
    if sidecar.segment is not None:
        named = pl.lit([sidecar.segment], dtype=pl.List(pl.String))
        frame = frame.with_columns(named.alias("segments"))
    return (
        frame.explode("segments")
        .drop_nulls("segments")
        .with_columns(
            pl.col("segments").str.replace_all(r"\s+", " ").str.strip_chars().alias("segment"),
            pl.col("action").fill_null("add"),
        )
        .filter(pl.col("segment") != "")
        .select("person_key", "segment", "action")
    )


def _existing(control: Control, store: Store, segment: SegmentRecord | None) -> pl.Series:
    if segment is None or segment.version == 0:
        return store.members(None)
    row = control.version(segment.id, segment.version)
    return store.members(None if row is None else row.path)


def _diff(old: pl.Series, new: pl.Series) -> tuple[int, int]:
    added = int((~new.is_in(old.implode())).sum())
    removed = int((~old.is_in(new.implode())).sum())
    return added, removed


def data_changes(
    control: Control, store: Store, partner: str, file_id: int, sidecar: Sidecar
) -> list[Change]:
    """One change per segment the file names. Spellings that differ only in case and
    spacing ("Movie Fans", "movie  fans") are one segment, shown as its existing name or
    the file's first spelling."""
    claims = _memberships(store, partner, file_id, sidecar)
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
        _append(changes, *_new_members(control, store, partner, name, rows, sidecar))
    return changes


def _new_members(
    control: Control,
    store: Store,
    partner: str,
    name: str,
    rows: pl.DataFrame,
    sidecar: Sidecar,
) -> tuple[SegmentRecord | None, str, pl.Series, pl.Series]:
    """(segment, name, old members, new members) of one segment a data file names."""
    segment = control.segment(normalize_name(name))
    if segment is not None and segment.partner != partner:
        raise SegmentError(
            f"the segment name {name!r} belongs to another partner (segment names are"
            " unique in Tessera, ignoring case and spacing)"
        )
    if segment is not None and segment.source_id is not None:
        raise SegmentError(f"{name!r} is a copy of another segment; files cannot change it")
    old = _existing(control, store, segment)
    last = rows.group_by("person_key").agg(pl.col("action").last())
    adds = last.filter(pl.col("action") == "add").get_column("person_key")
    if sidecar.mode == FULL:
        return segment, segment.name if segment else name, old, adds
    deletes = last.filter(pl.col("action") == "delete").get_column("person_key")
    new = pl.concat([old.filter(~old.is_in(deletes.implode())), adds]).unique()
    return segment, segment.name if segment else name, old, new


def optout_changes(control: Control, store: Store, partner: str, file_id: int) -> list[Change]:
    people = store.memberships(partner, file_id).select("person_key").collect()
    out = people.get_column("person_key").unique()
    changes: list[Change] = []
    for segment in control.segments(partner):
        if segment.source_id is not None:
            continue  # copies follow their source
        old = _existing(control, store, segment)
        _append(changes, segment, segment.name, old, old.filter(~old.is_in(out.implode())))
    return changes


def _append(
    changes: list[Change], segment: SegmentRecord | None, name: str, old: pl.Series, new: pl.Series
) -> None:
    added, removed = _diff(old, new)
    if segment is not None and added == 0 and removed == 0:
        return
    version = 1 if segment is None else segment.version + 1
    changes.append(
        Change(None if segment is None else segment.id, name, version, new, added, removed)
    )


def follow_copies(control: Control, store: Store, changes: list[Change]) -> list[Change]:
    """Changes of the copies of the changed segments (same members, own versions)."""
    extra: list[Change] = []
    for index, change in enumerate(changes):
        if change.segment_id is None:
            continue
        for copy in control.copies(change.segment_id):
            old = _existing(control, store, copy)
            added, removed = _diff(old, change.members)
            extra.append(
                Change(
                    copy.id,
                    copy.name,
                    copy.version + 1,
                    change.members,
                    added,
                    removed,
                    source_index=index,
                )
            )
    return extra


def write_snapshots(store: Store, file_id: int, changes: list[Change]) -> None:
    for n, change in enumerate(changes):
        if change.source_index is not None:
            change.snapshot = changes[change.source_index].snapshot
            continue
        change.snapshot = store.snapshot_name(file_id, n)
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
            members=len(change.members),
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
