"""A run's parameters: the options (from settings, a partner's config and flags) and the
Job every stage reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from config import PartnerSettings, Settings
from resolver import kinds as k
from resolver.graph.persons import KeyScheme
from resolver.graph.rules import GraphRules
from resolver.pipeline.columns import ColumnMap
from resolver.pipeline.read import ReadLimits


@dataclass(frozen=True)
class ResolveOptions:
    """How to read and normalize a file (from settings, a partner's config and flags)."""

    region: str = "US"
    profile: str = "tiktok"
    chunk_rows: int = 400_000
    aliases: Mapping[str, str] = field(default_factory=dict)
    maid_type: str | None = None  # the type of untyped MAIDs ("idfa" | "gaid"), if known
    limits: ReadLimits = field(default_factory=ReadLimits)
    tmpdir: Path | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        partner: PartnerSettings | None = None,
        *,
        region: str | None = None,
        profile: str | None = None,
        tmpdir: Path | None = None,
    ) -> ResolveOptions:
        """Flags win, then the partner's own region, then the home's settings."""
        partner = partner or PartnerSettings()
        inbox = settings.inbox
        return cls(
            region=region or partner.region or settings.resolver.default_region,
            profile=profile or settings.resolver.profile,
            chunk_rows=settings.resolver.chunk_rows,
            aliases=dict(partner.aliases),
            maid_type=partner.maid_type,
            # The inbox's size limit is checked when a partner's file is claimed (ingest);
            # the gzip limits guard every read.
            limits=ReadLimits(
                max_line_bytes=settings.resolver.max_line_bytes,
                max_decompressed_bytes=inbox.max_decompressed_bytes,
                max_compression_ratio=inbox.max_compression_ratio,
            ),
            tmpdir=tmpdir,
        )


@dataclass(frozen=True)
class Job:
    """What every stage reads: the file's columns, the options and, to resolve (not just
    hash), the node HMAC key and the partner's person_id key."""

    columns: ColumnMap
    options: ResolveOptions
    node_key: str = ""
    partner_key: bytes = b""
    persons: KeyScheme = field(default_factory=lambda: KeyScheme(b"", b""))
    rules: GraphRules = field(default_factory=GraphRules)

    @property
    def families(self) -> list[str]:
        found = {k.FAMILY_OF[kind] for kind in self.columns.identifiers}
        return sorted(found, key=k.FAMILIES.index)


# A stage: (frame, job, file row number of the frame's first row) -> frame of the same rows.
Stage = Callable[[pl.DataFrame, Job, int], pl.DataFrame]
