"""The segment catalogue: what the distributor reads of the resolver's segments.

    segments = Segments(home)
    segments.all()                       -> [SegmentInfo]
    segments.get("Sports fans")          -> SegmentInfo (names match ignoring case/spacing)
    segments.versions("Sports fans")     -> [VersionInfo]: members, added, removed, file
    segments.members("Sports fans")      -> person_key + the destination match keys
    segments.changes("Sports fans", 1, 2) -> who joined and who left between two versions
    segments.copy(name, new) / rename(name, new)

Members carry the SHA-256 match keys of the configured destination profile, decrypted in
memory from the partner's sealed store for the caller; they are never written out.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from resolver.errors import SegmentError
from resolver.home import Home
from resolver.segments.names import normalize_name
from resolver.segments.versions import copy_segment, rename_segment
from resolver.state.control import Control, SegmentRecord, VersionRecord
from resolver.state.seal import Sealer
from resolver.state.store import KEYS_SCHEMA, Store


@dataclass(frozen=True)
class SegmentInfo:
    name: str
    partner: str
    version: int
    members: int
    copy_of: str | None
    updated: float


@dataclass(frozen=True)
class VersionInfo:
    version: int
    members: int
    added: int
    removed: int
    file_id: int | None
    created: float


class Segments:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.control = Control(home.control_db)
        self.store = Store(home.store)

    def close(self) -> None:
        self.control.close()

    def __enter__(self) -> Segments:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, name: str) -> SegmentRecord:
        record = self.control.segment(normalize_name(name))
        if record is None:
            raise SegmentError(
                f"there is no segment named {name!r}; `resolver status` lists the segments"
            )
        return record

    def _info(self, record: SegmentRecord) -> SegmentInfo:
        source = None
        if record.source_id is not None:
            source = self.control.segment_by_id(record.source_id).name
        return SegmentInfo(
            record.name, record.partner, record.version, record.members, source, record.updated
        )

    def all(self, partner: str | None = None) -> list[SegmentInfo]:
        return [self._info(record) for record in self.control.segments(partner)]

    def get(self, name: str) -> SegmentInfo:
        return self._info(self._record(name))

    def versions(self, name: str) -> list[VersionInfo]:
        return [_version(row) for row in self.control.versions(self._record(name).id)]

    def person_keys(self, name: str, version: int | None = None) -> pl.Series:
        record = self._record(name)
        version = record.version if version is None else version
        if version == 0:
            return self.store.members(None)
        row = self.control.version(record.id, version)
        if row is None:
            raise SegmentError(f"segment {record.name!r} has no version {version}")
        return self.store.members(row.path)

    def members(self, name: str, version: int | None = None) -> pl.DataFrame:
        """person_key (16 bytes) and email_sha256, phone_sha256, maid_sha256 (hex or null),
        maid_type ("idfa", "gaid" or null) for each member of the version (default: the
        latest). The match keys are each person's latest from the partner's files."""
        record = self._record(name)
        keys = self.person_keys(name, version)
        if keys.is_empty():
            return pl.DataFrame(schema=KEYS_SCHEMA)
        sealer = Sealer(self.home.keyring().partner_data_key(record.partner))
        files = self.control.committed_files(record.partner)
        match = self.store.match_keys(record.partner, files, sealer)
        return keys.to_frame().join(match, on="person_key", how="left").select(list(KEYS_SCHEMA))

    def changes(self, name: str, old: int, new: int) -> tuple[pl.Series, pl.Series]:
        """(joined, left) person keys between two versions."""
        before, after = self.person_keys(name, old), self.person_keys(name, new)
        joined = after.filter(~after.is_in(before.implode()))
        left = before.filter(~before.is_in(after.implode()))
        return joined, left

    def copy(self, name: str, new_name: str) -> SegmentInfo:
        return self._info(copy_segment(self.control, name, new_name))

    def rename(self, name: str, new_name: str) -> SegmentInfo:
        return self._info(rename_segment(self.control, name, new_name))


def _version(row: VersionRecord) -> VersionInfo:
    return VersionInfo(row.version, row.members, row.added, row.removed, row.file_id, row.created)
