"""Rules checked before anything is sent; each error says what to do."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from distributor.errors import RuleError, command

ADVERTISER_ID = re.compile(r"[0-9]{19}")
MAX_ACCOUNT_NAME = 149


def check_advertiser_id(advertiser_id: str) -> str:
    if not ADVERTISER_ID.fullmatch(advertiser_id):
        raise RuleError(
            "the advertiser ID must be 19 digits (TikTok Ads Manager > Account info);"
            f" got {len(advertiser_id)} characters"
        )
    return advertiser_id


def check_account_name(name: str, existing: Iterable[str]) -> str:
    if not 1 <= len(name) <= MAX_ACCOUNT_NAME or name != name.strip():
        raise RuleError(
            f"the account name must be 1-{MAX_ACCOUNT_NAME} characters without surrounding spaces"
        )
    if name in set(existing):
        raise RuleError(
            f"an account named {name!r} exists: choose another --name, or remove it with"
            f" {command('distributor', 'accounts', 'remove', name)}"
        )
    return name


def audience_name(segment: str, max_length: int) -> str:
    """The segment name, or when too long its head plus '~' and an 8-hex hash of the
    whole name, so shortening is deterministic and distinct names stay distinct."""
    if len(segment) <= max_length:
        return segment
    digest = hashlib.sha256(segment.encode()).hexdigest()[:8]
    return segment[: max_length - 9] + "~" + digest


def check_one_account(segment: str, account: str, distributed_to: Iterable[str]) -> None:
    others = sorted(set(distributed_to) - {account})
    if others:
        raise RuleError(
            f"segment {segment!r} is already distributed to ad account {others[0]!r}; TikTok"
            " refuses deliveries of one segment to two ad accounts. Make a copy for this"
            f" account: {command('distributor', 'segments', 'copy', segment, '--name', 'NEW')},"
            " then distribute NEW"
        )


def check_audience_name(name: str, account: str, names_in_use: Iterable[str]) -> None:
    if name in set(names_in_use):
        raise RuleError(
            f"ad account {account!r} already has an audience named {name!r}; audience names"
            " are unique per account: rename the segment (`distributor segments rename`) or"
            " delete that audience in TikTok Ads Manager"
        )


def check_audience_cap(account: str, count: int, cap: int) -> None:
    if count >= cap:
        raise RuleError(
            f"ad account {account!r} holds {count} audiences, TikTok's limit is {cap}: delete"
            " unused audiences in TikTok Ads Manager, or distribute to another account"
        )


def mask_token(token: str) -> str:
    """Enough to tell tokens apart, never enough to use one."""
    return "****" + token[-4:] if len(token) >= 12 else "****"
