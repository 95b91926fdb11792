"""Tessera resolver: partner files in, keyed pseudonymous person IDs and segments out.

The public face; everything else in the package is internal. The distributor imports only
what is listed here: the segment catalogue it distributes, the inbox service it may run,
and the state primitives (SQLite, sealing, atomic writes) both packages share.
"""

from resolver import _alloc  # noqa: F401  (first: it configures Polars' allocator)
from resolver.errors import (
    InputError,
    MasterKeyError,
    OptionError,
    ResolverError,
    SegmentError,
    ServiceError,
    StoreError,
)
from resolver.home import Home
from resolver.inbox.service import Service, Summary
from resolver.keys import KeyRing
from resolver.partners import add_partner
from resolver.pipeline.job import ResolveOptions
from resolver.pipeline.report import ResolveReport
from resolver.pipeline.run import Engine, LocalEngine, Resolution, resolve_file
from resolver.sample import canonical_identifiers, sample_frame, write_sample
from resolver.segments.catalog import Commit, SegmentInfo, Segments, VersionInfo
from resolver.state.atomic import (
    append_log,
    atomic_file,
    private_dir,
    remove_temp_files,
    write_atomic,
)
from resolver.state.db import Database
from resolver.state.seal import Sealer

__all__ = [
    "Commit",
    "Database",
    "Engine",
    "Home",
    "InputError",
    "KeyRing",
    "LocalEngine",
    "MasterKeyError",
    "OptionError",
    "Resolution",
    "ResolveOptions",
    "ResolveReport",
    "ResolverError",
    "Sealer",
    "SegmentError",
    "SegmentInfo",
    "Segments",
    "Service",
    "ServiceError",
    "StoreError",
    "Summary",
    "VersionInfo",
    "add_partner",
    "append_log",
    "atomic_file",
    "canonical_identifiers",
    "private_dir",
    "remove_temp_files",
    "resolve_file",
    "sample_frame",
    "write_atomic",
    "write_sample",
]
