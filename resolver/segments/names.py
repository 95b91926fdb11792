"""Segment names: unique across Tessera ignoring case and spacing ("Sports  Fans" is
"sports fans"), 1 to 128 characters, no control characters."""

from __future__ import annotations

import re

from resolver.errors import SegmentError

MAX_NAME = 128


def clean_name(name: str) -> str:
    """The name as it is kept and shown: runs of white space folded to one space."""
    return re.sub(r"\s+", " ", name).strip()


def normalize_name(name: str) -> str:
    """The form names are compared in."""
    return clean_name(name).casefold()


def check_name(name: str) -> str:
    """The cleaned name, or SegmentError saying what a name may be."""
    clean = clean_name(name)
    if not clean or len(clean) > MAX_NAME:
        raise SegmentError(f"a segment name must have 1 to {MAX_NAME} characters")
    if any(ord(ch) < 32 for ch in clean):
        raise SegmentError("a segment name must not contain control characters")
    return clean
