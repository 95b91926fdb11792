"""Tessera resolver: partner files in, keyed pseudonymous person IDs and segments out.

The public face; everything else in the package is internal.
"""

from resolver.api import SegmentInfo, Segments, VersionInfo
from resolver.commands import add_partner
from resolver.errors import InputError, ResolverError, SegmentError, StoreError
from resolver.home import Home
from resolver.keys import KeyRing
from resolver.pipeline import Resolution, ResolveReport, resolve_file
from resolver.sample import canonical_identifiers, sample_frame, write_sample
from resolver.service import Service, Summary

__all__ = [
    "Home",
    "InputError",
    "KeyRing",
    "Resolution",
    "ResolveReport",
    "ResolverError",
    "SegmentError",
    "SegmentInfo",
    "Segments",
    "Service",
    "StoreError",
    "Summary",
    "VersionInfo",
    "add_partner",
    "canonical_identifiers",
    "resolve_file",
    "sample_frame",
    "write_sample",
]
