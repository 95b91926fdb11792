"""The store: immutable Parquet datasets under `<home>/store/`, queried in-process.

store/staging/<file_id>/          parts of a file being processed (discarded on a crash)
store/ingest/<partner>/<file_id>/ the committed parts of one file:
    members-<n>.parquet           per row with a person: the graph node ids of its
                                  identifiers (email_node, phone_node, maid_node),
                                  segments, action (pseudonymous only)
store/segments/f<file_id>-<n>.parquet   a segment version's member rows (their node ids),
                                        written by the file that made the version
store/graph/<partner>/            the partner's identity graph (resolver/graph/store.py),
                                  where the match keys are kept, sealed

Every file is written tmp → fsync → rename and never changed afterwards. A dataset counts
only once the control database says so (a committed file, a segment_versions row): that
table is the manifest, so a crash can leave orphans, never a torn or half-counted dataset,
and `sweep` removes the orphans.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import polars as pl

from resolver.errors import StoreError
from resolver.kinds import NODE_ID_COLUMNS
from resolver.state.atomic import fsync_dir, private_dir, remove_temp_files, write_atomic

TRIPLES: dict[str, pl.DataType] = {c: pl.Int32() for c in NODE_ID_COLUMNS}
MEMBER_SCHEMA: dict[str, pl.DataType] = {
    **TRIPLES,
    "segments": pl.List(pl.String()),
    "action": pl.String(),
}
KEYS_SCHEMA: dict[str, pl.DataType] = {
    "person_key": pl.Binary(),
    "email_sha256": pl.String(),
    "phone_sha256": pl.String(),
    "maid_sha256": pl.String(),
    "maid_type": pl.String(),
}


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


class Store:
    """Paths and readers of the datasets. Writers are used by the inbox only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- layout ---------------------------------------------------------------------

    def staging(self, file_id: int) -> Path:
        return self.root / "staging" / str(file_id)

    def ingest(self, partner: str, file_id: int) -> Path:
        return self.root / "ingest" / partner / str(file_id)

    @staticmethod
    def snapshot_name(stem: str, n: int) -> str:
        return f"segments/{stem}-{n:04d}.parquet"

    # -- writing a file's parts -----------------------------------------------------

    def write_members(self, folder: Path, n: int, chunk: pl.DataFrame) -> None:
        """Stage one settled chunk's memberships: rows with a person, by node ids."""
        private_dir(folder)
        rows = chunk.filter(pl.col("person_key").is_not_null()).select(list(MEMBER_SCHEMA))
        write_atomic(folder / f"members-{n:05d}.parquet", _parquet_bytes(rows))

    def publish(self, partner: str, file_id: int) -> Path:
        """Move a file's staged parts into the ingest area (idempotent)."""
        target = self.ingest(partner, file_id)
        staged = self.staging(file_id)
        if staged.exists():
            private_dir(target.parent)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staged, target)
            fsync_dir(target.parent)
        if not target.exists():
            raise StoreError(f"the parts of file {file_id} are missing from the store")
        return target

    def discard(self, partner: str, file_id: int) -> None:
        for folder in (self.staging(file_id), self.ingest(partner, file_id)):
            shutil.rmtree(folder, ignore_errors=True)

    def write_snapshot(self, name: str, triples: pl.DataFrame) -> None:
        frame = triples.select(list(TRIPLES)).unique().sort(list(TRIPLES), nulls_last=True)
        write_atomic(self.root / name, _parquet_bytes(frame))

    # -- reading --------------------------------------------------------------------

    def memberships(self, partner: str, file_id: int) -> pl.LazyFrame:
        """(node ids, segments, action) of a committed file, one row per row with a person."""
        parts = sorted(self.ingest(partner, file_id).glob("members-*.parquet"))
        if not parts:
            return pl.LazyFrame(schema=MEMBER_SCHEMA)
        return pl.scan_parquet(parts)

    def members(self, name: str | None) -> pl.DataFrame:
        """The member rows (node ids) of a segment version (None: no version yet)."""
        if name is None:
            return pl.DataFrame(schema=TRIPLES)
        try:
            return pl.read_parquet(self.root / name)
        except (OSError, pl.exceptions.ComputeError) as exc:
            raise StoreError(f"segment snapshot {name} is unreadable") from exc

    def sweep(self, live_files: set[int]) -> int:
        """Remove staging folders of files no longer in flight and temp files left by a
        crash. Returns how many entries were removed."""
        removed = 0
        staging = self.root / "staging"
        if staging.exists():
            for folder in staging.iterdir():
                if not folder.name.isdigit() or int(folder.name) not in live_files:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
        return removed + remove_temp_files(self.root)
