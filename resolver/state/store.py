"""The store: immutable Parquet datasets under `<home>/store/`, queried in-process.

store/staging/<file_id>/          parts of a file being processed (discarded on a crash)
store/ingest/<partner>/<file_id>/ the committed parts of one file:
    members-<n>.parquet           person_key, segments, action (pseudonymous only)
    keys-<n>.bin                  the destination match keys of those rows: a Parquet file
                                  sealed with AES-256-GCM under the partner's data key
store/segments/f<file_id>-<n>.parquet   a segment version's members (sorted person keys),
                                        written by the file that made the version

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
from resolver.kinds import MATCH_COLUMNS
from resolver.state.atomic import fsync_dir, private_dir, remove_temp_files, write_atomic
from resolver.state.seal import Sealer

MEMBER_COLUMNS = ["person_key", "segments", "action"]
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


def _hex_to_binary(column: str) -> pl.Expr:
    return pl.col(column).str.decode("hex")


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
    def snapshot_name(file_id: int, n: int) -> str:
        return f"segments/f{file_id}-{n:04d}.parquet"

    # -- writing a file's parts -----------------------------------------------------

    def write_part(
        self, folder: Path, n: int, chunk: pl.DataFrame, sealer: Sealer, label: str
    ) -> None:
        """Stage one resolved chunk: its memberships and its sealed match keys (rows with
        a person only). Match keys are kept as raw bytes, sealed as one Parquet blob."""
        private_dir(folder)
        rows = chunk.filter(pl.col("person_key").is_not_null())
        write_atomic(
            folder / f"members-{n:05d}.parquet", _parquet_bytes(rows.select(MEMBER_COLUMNS))
        )
        keys = rows.select(
            "person_key", *(_hex_to_binary(c).alias(c) for c in MATCH_COLUMNS), "maid_type"
        )
        sealed = sealer.seal_frame(keys, f"{label}/{n}")
        write_atomic(folder / f"keys-{n:05d}.bin", sealed)

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

    def write_snapshot(self, name: str, members: pl.Series) -> None:
        frame = members.rename("person_key").unique().sort().to_frame()
        write_atomic(self.root / name, _parquet_bytes(frame))

    # -- reading --------------------------------------------------------------------

    def memberships(self, partner: str, file_id: int) -> pl.LazyFrame:
        """(person_key, segment, action) of a committed file, one row per membership."""
        parts = sorted(self.ingest(partner, file_id).glob("members-*.parquet"))
        if not parts:
            schema = {
                "person_key": pl.Binary(),
                "segments": pl.List(pl.String),
                "action": pl.String(),
            }
            return pl.LazyFrame(schema=schema)
        return pl.scan_parquet(parts)

    def members(self, name: str | None) -> pl.Series:
        """The members of a segment version from its snapshot (None: no version yet)."""
        if name is None:
            return pl.Series("person_key", [], dtype=pl.Binary())
        try:
            return pl.read_parquet(self.root / name).get_column("person_key")
        except (OSError, pl.exceptions.ComputeError) as exc:
            raise StoreError(f"segment snapshot {name} is unreadable") from exc

    def match_keys(self, partner: str, file_ids: list[int], sealer: Sealer) -> pl.DataFrame:
        """The latest match keys per person across the given committed files (decrypted;
        for the distributor only, never written anywhere)."""
        frames = []
        for order, file_id in enumerate(file_ids):
            folder = self.ingest(partner, file_id)
            for part in sorted(folder.glob("keys-*.bin")):
                n = int(part.stem.split("-")[1])
                frame = sealer.open_frame(part.read_bytes(), f"{partner}/{file_id}/{n}")
                frames.append(frame.with_columns(pl.lit(order, pl.Int64).alias("_order")))
        if not frames:
            return pl.DataFrame(schema=KEYS_SCHEMA)
        stacked = pl.concat(frames).sort("_order", maintain_order=True)
        latest = stacked.group_by("person_key", maintain_order=True).agg(
            *(pl.col(c).drop_nulls().last() for c in MATCH_COLUMNS),
            # the type of that same MAID, not of an older one
            pl.col("maid_type").filter(pl.col("maid_sha256").is_not_null()).last(),
        )
        return latest.with_columns(pl.col(c).bin.encode("hex") for c in MATCH_COLUMNS)

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
