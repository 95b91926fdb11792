"""Destination match-key profiles: how each platform wants an identifier before hashing.

Profiles are data, versioned: a change of rules is a new version, never an edit in place.
Each profile's published vectors live in tests/vectors/ with their provenance.

Sources (see shared research, normalization.md §1-3 and tiktok_api.md §1.9):
- tiktok: email lowercased and trimmed, "+" and what follows it up to "@" removed (TikTok
  customer-file rules, Aug 2025); phone digits with country code, no "+" (Aug 2025; TikTok's
  own published hash is of that form); MAID lowercase (TikTok's published MAID hash).
- uid2: for gmail.com only, dots and "+tag" removed from the local part; phone E.164 "+".
- meta: email trim+lowercase; phone digits with country code, no "+".
- google: email trim+lowercase; phone E.164 with "+".
- e164: email trim+lowercase; phone E.164 with "+" (the canonical forms themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from resolver.errors import OptionError

EmailRule = Literal["lower", "strip_plus_tag", "uid2_gmail"]
PhoneRule = Literal["e164", "digits"]
MaidRule = Literal["lower", "upper"]


@dataclass(frozen=True)
class Profile:
    name: str
    version: int
    email: EmailRule
    phone: PhoneRule
    maid: MaidRule
    description: str

    @property
    def label(self) -> str:
        return f"{self.name}/v{self.version}"


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(
            "tiktok",
            1,
            "strip_plus_tag",
            "digits",
            "lower",
            "TikTok audiences: +tag removed, phone digits with country code, MAID lowercase",
        ),
        Profile(
            "uid2",
            1,
            "uid2_gmail",
            "e164",
            "lower",
            "UID2/EUID: gmail.com dots and +tag removed, phone E.164 with +",
        ),
        Profile(
            "meta",
            1,
            "lower",
            "digits",
            "lower",
            "Meta: email trim+lowercase, phone digits with country code",
        ),
        Profile(
            "google",
            1,
            "lower",
            "e164",
            "lower",
            "Google Customer Match: email trim+lowercase, phone E.164 with +",
        ),
        Profile(
            "e164",
            1,
            "lower",
            "e164",
            "lower",
            "Canonical forms: email trim+lowercase, phone E.164 with +",
        ),
    )
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise OptionError(f"unknown profile {name!r} (known: {known})") from None
