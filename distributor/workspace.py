"""A home as the distributor uses it: its settings, its ledger, and connections to the ad
platforms (through an optional in-process transport: the seam tests and the demo use to
reach the bundled emulator without a network).

    with Workspace.open(home_dir) as ws:
        report = ws.distribute("Sports fans", members, "Brand US")
        report = ws.sync("Sports fans", members)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl

from config import Settings
from distributor.destinations import platform
from distributor.destinations.base import Capabilities, Destination
from distributor.destinations.tiktok import TikTokApi, api
from distributor.errors import RuleError, command
from distributor.executor import Progress
from distributor.freshness import DAY, Freshness, measure
from distributor.ledger import DATA_PURPOSE, TOKEN_PURPOSE, Account, Distribution, Ledger
from distributor.metrics import RunReport
from distributor.plan import current_from_members
from distributor.run import DistributionRun, RunContext
from resolver import Home, ResolverError, Segments


@dataclass(frozen=True)
class SegmentRead:
    """A segment's members as read now: its canonical name, the partner's graph
    generation the members reflect (read first: they reflect it or a later one), and one
    row per member and match key."""

    name: str
    generation: int
    members: pl.DataFrame


class Workspace:
    def __init__(self, home: Home, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.home = home
        self.settings: Settings = home.settings
        self.transport = transport
        self._ledger: Ledger | None = None

    @classmethod
    def open(
        cls, root: str | Path | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> Workspace:
        return cls(Home.open(root), transport)

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            keyring = self.home.keyring()
            self._ledger = Ledger(
                self.home.state, keyring.subkey(TOKEN_PURPOSE), keyring.subkey(DATA_PURPOSE)
            )
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- platforms ------------------------------------------------------------------

    def capabilities(self, platform_name: str) -> Capabilities:
        return platform(platform_name).capabilities(self.settings)

    def connect(self, platform_name: str, advertiser_id: str, token: str) -> Destination:
        connect = platform(platform_name).connect
        return connect(self.settings, advertiser_id, token, self.transport)

    def destination(self, account: Account) -> Destination:
        token = self.ledger.accounts.token(account.name)
        return self.connect(account.platform, account.advertiser_id, token)

    def tiktok_api(self) -> TikTokApi:
        """TikTok endpoints without an advertiser (OAuth)."""
        return api(self.settings, transport=self.transport)

    # -- distribution ---------------------------------------------------------------

    def segment(self, name: str) -> SegmentRead:
        """The segment's latest members, from the resolver's catalogue."""
        with Segments(self.home) as segments:
            canonical = segments.get(name).name
            generation = segments.generation(canonical)
            return SegmentRead(canonical, generation, segments.members(canonical))

    def account(self, name: str) -> Account:
        found = self.ledger.accounts.get(name)
        if found is None:
            raise RuleError(f"no ad account named {name!r}: add it with `distributor accounts add`")
        return found

    def freshness(self, dist: Distribution, now: float | None = None) -> Freshness:
        """From each commit of the segment's partner to the run that caught up with it,
        over the last day (distributor/freshness.py), and how long a change now waits."""
        now = time.time() if now is None else now
        since = now - DAY
        runs = self.ledger.runs
        baseline = runs.synced_generation(dist.id, before=since) or 0
        with Segments(self.home) as catalogue:
            try:
                commits = catalogue.commits(dist.segment, after=baseline)
            except ResolverError:  # the segment is gone with its partner
                commits = []
        return measure(
            [(c.generation, c.committed) for c in commits],
            runs.catch_ups(dist.id, since),
            created=dist.created_at,
            now=now,
        )

    def distribute(
        self,
        segment: str,
        members: pl.DataFrame,
        account: str,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        context: RunContext | None = None,
    ) -> RunReport:
        """Send a segment's members to an ad account, creating its audience on first use
        (and again with `context.recreate`, when it was deleted on the platform). A paused
        distribution is refused. `context` also carries the graph generation the members
        were read at (it measures freshness) and an event that stops the run from another
        thread."""
        if self.ledger.distributions.paused(segment):
            raise RuleError(
                f"segment {segment!r} is paused: {command('distributor', 'resume', segment)}"
            )
        current = current_from_members(members)
        run = DistributionRun(
            self, segment, self.account(account), current, dry_run, progress,
            context=context or RunContext(),
        )  # fmt: skip
        try:
            return asyncio.run(run.execute())
        except KeyboardInterrupt:
            run.interrupted()
            raise

    def sync(
        self,
        segment: str,
        members: pl.DataFrame,
        *,
        dry_run: bool = False,
        progress: Progress | None = None,
        context: RunContext | None = None,
    ) -> RunReport:
        """Bring the segment's distribution up to `members` (record sync)."""
        account = self.ledger.account_of(segment)
        if account is None:
            raise RuleError(
                f"segment {segment!r} is not distributed yet:"
                f" {command('distributor', 'distribute', segment, '--account', 'NAME')}"
            )
        return self.distribute(
            segment, members, account, dry_run=dry_run, progress=progress, context=context
        )  # fmt: skip
