"""Undoing a distribution: stop keeping a segment's audience in one ad account in sync.

The ledger forgets the distribution (its runs, batches, held snapshot and plans), so the
segment may go to another account, or to this one again as a new audience. The audience
itself stays on the platform as it is, unless `delete_audience`: then it is deleted there
first, and the ledger forgets only once the platform has said so (or said the audience
was already gone), so a failure leaves the distribution as it was.

It holds the segment's lock, like a run: it cannot undo a distribution a run is sending.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from distributor.errors import AuthError, BadRequest, RuleError, command
from distributor.ledger import Account, Distribution
from distributor.retry import Backoff, retrying
from distributor.run import reauthorize

if TYPE_CHECKING:
    from distributor.workspace import Workspace

KEPT, DELETED, ALREADY_GONE, NEVER_MADE = "kept", "deleted", "already gone", "never made"
ATTEMPTS = 8  # a few minutes of backoff for each call, then the error: nothing was forgotten


@dataclass(frozen=True)
class Undistributed:
    """What undoing one distribution did; `audience` is one of the four states above."""

    segment: str
    account: str
    audience_id: str | None
    audience_name: str
    audience: str
    runs: int

    @property
    def line(self) -> str:
        where = f"{self.segment!r} is no longer distributed to {self.account!r}"
        if self.audience == KEPT:
            kept = f"its audience {self.audience_name!r} stays in the ad account as it is"
            return f"{where}; {kept} (delete it there, or undistribute with --delete-audience)"
        return f"{where}; its audience {self.audience_name!r}: {self.audience}"


def find_distribution(ws: Workspace, segment: str, account: Account) -> Distribution:
    """The segment's distribution to the account (names compared as the ledger's locks
    compare them), else a RuleError that says where the segment does go."""
    found = [d for d in ws.ledger.distributions.all() if d.segment.casefold() == segment.casefold()]
    mine = next((d for d in found if d.account_id == account.id), None)
    if mine is not None:
        return mine
    names = ws.ledger.accounts.names()
    where = sorted(names.get(d.account_id, "?") for d in found)
    elsewhere = f"; it is distributed to {', '.join(map(repr, where))}" if where else ""
    raise RuleError(f"segment {segment!r} is not distributed to {account.name!r}{elsewhere}")


async def undistribute(
    ws: Workspace, segment: str, account_name: str, delete_audience: bool
) -> Undistributed:
    """Forget the distribution of `segment` to the account (see the module doc)."""
    account = ws.account(account_name)
    dist = find_distribution(ws, segment, account)
    with ws.ledger.locks.hold(dist.segment):
        dist = find_distribution(ws, dist.segment, account)  # as it is under the lock
        outcome = KEPT
        if delete_audience:
            try:
                outcome = await _delete(ws, account, dist)
            except AuthError as exc:
                again = reauthorize(account, dist.segment)
                raise AuthError(f"{account.name}: {exc}; {again}", exc.code) from None
        runs = ws.ledger.forget(dist)
    return Undistributed(
        dist.segment, account.name, dist.audience_id, dist.audience_name, outcome, runs
    )


async def _delete(ws: Workspace, account: Account, dist: Distribution) -> str:
    """Delete the audience on the platform. One whose create answer a crash lost is found
    by its name; one the platform no longer has is `already gone`."""
    backoff = Backoff.from_settings(ws.settings.distributor)
    rng = random.Random()
    destination = ws.destination(account)
    try:
        found = dist.audience_id
        if found is None:
            listed = await retrying(destination.list_audiences, backoff, rng, ATTEMPTS)
            found = next((a.audience_id for a in listed if a.name == dist.audience_name), None)
            if found is None:
                return NEVER_MADE
        target: str = found
        try:
            await retrying(lambda: destination.delete_audience(target), backoff, rng, ATTEMPTS)
        except BadRequest:
            try:
                await retrying(lambda: destination.get_audience(target), backoff, rng, ATTEMPTS)
            except BadRequest:
                return ALREADY_GONE
            raise
        return DELETED
    finally:
        await destination.aclose()


def distributions_of(ws: Workspace, account: Account) -> list[Distribution]:
    return [d for d in ws.ledger.distributions.all() if d.account_id == account.id]


async def remove_account(
    ws: Workspace, name: str, with_distributions: bool, delete_audiences: bool
) -> list[Undistributed]:
    """Remove an ad account and its sealed token. One with distributions is refused with
    the commands that undo them, unless `with_distributions`: then each is undone first
    (its audience deleted on the platform with `delete_audiences`, else kept)."""
    account = ws.account(name)
    found = distributions_of(ws, account)
    if found and not with_distributions:
        undo = ", ".join(
            command("distributor", "undistribute", d.segment, "--account", account.name)
            for d in found
        )
        every = command("distributor", "accounts", "remove", account.name, "--with-distributions")
        raise RuleError(
            f"ad account {account.name!r} has {len(found)} distribution(s): undo them first"
            f" with {undo}, or remove it with {every}"
        )
    done = [await undistribute(ws, d.segment, account.name, delete_audiences) for d in found]
    ws.ledger.accounts.remove(account.name)
    return done
