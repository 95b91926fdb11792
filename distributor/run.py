"""One distribution run: a segment's members to one ad account, as record sync.

    lock → fold → plan → ensure the audience → execute → fold → report

0. **lock**: one run per segment at a time (ledger/locks.py); a second one is told who
   holds it (Busy);
1. **fold**: runs a crash left unfolded are applied to the ledger's record of what the
   audience holds, so the plan starts from the truth as far as it is known;
2. **plan** (plan.py, pure): deletes of who left, then adds of who joined, in batches;
3. **ensure the audience**: created on first use, after the rules are checked (one ad
   account per segment, a unique name, the audience cap); the distribution is recorded
   before the create call, so an answer lost in a crash is adopted by name afterwards.
   An existing audience is checked to exist: one deleted on the platform stops the run
   (AudienceGone) unless the run was asked to `recreate` it;
4. **execute** (executor.py): the batches within the platform's limits, each batch's
   state in the ledger before and after its call; the retry window spans restarts;
5. **fold** the outcome, ask the platform for its matched size, and **report** with a
   status that tells what happened (metrics.py).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from distributor.destinations.base import ROLE_MANAGER, Destination
from distributor.errors import (
    AudienceGone,
    AuthError,
    BadRequest,
    DistributorError,
    RuleError,
    RunStopped,
    TransientError,
    command,
)
from distributor.executor import ExecResult, Executor, Progress
from distributor.ledger import REMOVING, Account, Distribution
from distributor.ledger.held import row_states
from distributor.metrics import RunReport, count, errored_ids, ids_by_type
from distributor.plan import Plan, plan_long, to_long
from distributor.retry import Backoff, retrying
from distributor.rules import (
    audience_name,
    check_audience_cap,
    check_audience_name,
    check_one_account,
)

if TYPE_CHECKING:
    from distributor.workspace import Workspace


def reauthorize(account: Account, segment: str) -> str:
    """How to give a refused account a new token, with its own name and advertiser."""
    add = command(
        "distributor", "accounts", "add", account.platform,
        "--advertiser-id", account.advertiser_id, "--name", account.name, "--auth-code", "CODE",
    )  # fmt: skip
    check = command("distributor", "accounts", "check", account.name)
    sync = command("distributor", "sync", segment)
    return f"re-authorize the account: {add} (or --token-env VAR), or see {check}; then {sync}"


@dataclass(frozen=True)
class RunContext:
    """What a run is told beyond its members: the graph generation they were read at
    (`Workspace.segment`; it measures freshness), and an event another thread sets to stop
    the run after its calls in flight (a service stopping); and `recreate`."""

    generation: int | None = None
    halt: threading.Event | None = None
    recreate: bool = False  # make the audience again if it was deleted on the platform


COVER_ATTEMPTS = 5  # the matched size is a nicety: a few tries, then 0


@dataclass
class DistributionRun:
    """A run of `segment` (its members as plan columns, `current`) to `account`."""

    workspace: Workspace
    segment: str
    account: Account
    current: pl.DataFrame
    dry_run: bool = False
    progress: Progress | None = None
    rng: random.Random = field(default_factory=random.Random)
    context: RunContext = field(default_factory=lambda: RunContext())

    def __post_init__(self) -> None:
        self.ledger = self.workspace.ledger
        self.caps = self.workspace.capabilities(self.account.platform)
        self.backoff = Backoff.from_settings(self.workspace.settings.distributor)
        self.dist: Distribution | None = None
        self.name = ""
        self.plan = Plan(rows=pl.DataFrame(), batches=())
        self.acked: pl.Series | None = None  # per plan row, once executed
        self.run_id: int | None = None

    async def execute(self) -> RunReport:
        with self.ledger.locks.hold(self.segment):
            self._check_one_account()
            found = self.ledger.distributions.find(self.segment, self.account.id)
            if found is not None and found.status == REMOVING:
                undo = command(
                    "distributor", "undistribute", self.segment, "--account", self.account.name
                )
                raise RuleError(
                    f"segment {self.segment!r} is being undistributed: finish with {undo}"
                )
            self.dist = self._folded(found)
            self.name = self.dist.audience_name if self.dist else self._audience_name()
            if self.dry_run:
                self._plan()
                return self._report("dry-run", ExecResult())
            destination = self.workspace.destination(self.account)
            try:
                if self.context.recreate:
                    await self._forget_gone(destination)
                self._plan()
                return await self._deliver(destination)
            finally:
                await destination.aclose()

    def _plan(self) -> None:
        held = self.ledger.distributions.held(self.dist)
        self.plan = plan_long(held, to_long(self.current), self.caps.max_batch)

    async def _forget_gone(self, destination: Destination) -> None:
        """`--recreate`: an audience deleted on the platform is forgotten, so a new one is
        made and every member sent; one that still exists is left alone."""
        if self.dist is None or self.dist.audience_id is None:
            return
        try:
            await destination.get_audience(self.dist.audience_id)
        except BadRequest:
            self.dist = self.ledger.distributions.forget_audience(self.dist)
            return
        raise RuleError(
            f"the audience {self.name!r} still exists in ad account {self.account.name!r}:"
            " --recreate is for an audience deleted on the platform"
        )

    def interrupted(self) -> None:
        """The run was stopped from outside (Ctrl-C): say so; the next run resumes."""
        if self.run_id is not None:
            message = "interrupted; the next run resumes where this one stopped"
            self.ledger.runs.finish(self.run_id, "interrupted", message)

    # -- the steps ----------------------------------------------------------------

    def _check_one_account(self) -> None:
        names = self.ledger.accounts.names()
        found = self.ledger.distributions.all(self.segment)
        check_one_account(self.segment, self.account.name, [names[d.account_id] for d in found])

    def _audience_name(self) -> str:
        return audience_name(self.segment, self.caps.max_name_length)

    def _folded(self, dist: Distribution | None) -> Distribution | None:
        if dist is not None:
            for run_id in self.ledger.runs.unfolded(dist.id):
                dist = self.ledger.fold(dist, run_id)
        return dist

    async def _deliver(self, destination: Destination) -> RunReport:
        dist = await self._audience(destination)
        assert dist.audience_id is not None
        runs = self.ledger.runs
        backoff = self.backoff.remaining(runs.window_opened(dist.id))
        keep_days = self.workspace.settings.distributor.run_history_days
        if keep_days > 0:
            runs.prune(dist.id, time.time() - keep_days * 86400.0)
        self.run_id = run_id = runs.start(dist.id, self.plan, self.context.generation)
        concurrency = self.workspace.settings.distributor.concurrency
        executor = Executor(destination, runs, backoff, concurrency, self.rng)
        watch = asyncio.create_task(_watch(self.context.halt, executor.stop))
        try:
            outcome = await executor.run(self.plan, dist.audience_id, run_id, self.progress)
        finally:
            watch.cancel()
        if outcome.acked_rows:
            self._role_confirmed()
        self.acked = pl.Series(row_states(self.plan.rows.height, runs.leaves(run_id)) == "acked")
        self.dist = self.ledger.fold(dist, run_id)
        cover = await self._cover(destination, dist.audience_id, outcome)
        report = self._report(self._status(outcome), outcome, run_id, cover)
        if report.status == "done" and not report_complete(report):
            halted = self.context.halt is not None and self.context.halt.is_set()
            report = _with_status(report, *(("interrupted", HALTED) if halted else ("partial",)))
        runs.finish(run_id, report.status, report.message, caught_up(report))
        runs.save_metrics(run_id, report.to_dict())
        if outcome.stopped is not None:
            raise RunStopped(report.message or "stopped", report)
        if outcome.gone:
            self.ledger.distributions.mark_gone(dist.id)
            raise AudienceGone(report.message or "the audience is gone", report)
        return report

    async def _audience(self, destination: Destination) -> Distribution:
        existed = self.dist is not None and self.dist.audience_id is not None
        try:
            dist = await retrying(
                lambda: self._ensure_audience(destination), self.backoff, self.rng
            )
            if existed:
                await self._check_exists(destination, dist)
        except AuthError as exc:
            again = reauthorize(self.account, self.segment)
            raise AuthError(f"{self.account.name}: {exc}; {again}", exc.code) from None
        return dist

    async def _ensure_audience(self, destination: Destination) -> Distribution:
        dist = self.ledger.distributions.find(self.segment, self.account.id)
        if dist is not None and dist.audience_id is not None:
            return dist
        existing = await destination.list_audiences()
        if dist is not None:  # a crash between create and record: adopt the audience by name
            adopted = next((a for a in existing if a.name == self.name), None)
            if adopted is not None:
                self.ledger.distributions.set_audience(dist.id, adopted.audience_id)
                return self._reload()
        check_audience_cap(self.account.name, len(existing), self.caps.max_audiences)
        check_audience_name(self.name, self.account.name, [a.name for a in existing])
        dist_id = dist.id if dist else self._record_distribution()
        self.ledger.distributions.set_audience(
            dist_id, await destination.create_audience(self.name)
        )
        self._role_confirmed()
        return self._reload()

    async def _check_exists(self, destination: Destination, dist: Distribution) -> None:
        """An audience deleted on the platform answers 40002 to a look-up. The check is
        a few tries: a platform that keeps failing leaves it to the batches' retries."""
        call = lambda: destination.get_audience(dist.audience_id or "")  # noqa: E731
        try:
            await retrying(call, self.backoff, self.rng, COVER_ATTEMPTS)
        except BadRequest:
            self.ledger.distributions.mark_gone(dist.id)
            raise AudienceGone(self._gone_message()) from None
        except TransientError:
            return

    def _gone_message(self) -> str:
        again = command(
            "distributor", "distribute", self.segment, "--account", self.account.name, "--recreate"
        )
        return (
            f"the audience {self.name!r} of segment {self.segment!r} no longer exists in ad"
            f" account {self.account.name!r} (deleted in TikTok Ads Manager?): run {again}"
            " to create it again and send every member"
        )

    def _role_confirmed(self) -> None:
        """The platform let this token create or upload: it may manage audiences."""
        if self.account.role != ROLE_MANAGER:
            self.ledger.accounts.touch(self.account.name, ROLE_MANAGER)

    def _record_distribution(self) -> int:
        return self.ledger.distributions.create(self.segment, self.account.id, self.name)

    def _reload(self) -> Distribution:
        found = self.ledger.distributions.find(self.segment, self.account.id)
        assert found is not None
        return found

    async def _cover(self, destination: Destination, audience_id: str, outcome: ExecResult) -> int:
        """The platform's matched size of the audience; 0 when it cannot be had. A token
        refused here stops the run like one refused mid-upload (with nothing to send,
        this is the only call that would notice)."""
        if outcome.stopped is not None or outcome.gone:
            return 0
        call = lambda: destination.get_audience(audience_id)  # noqa: E731
        try:
            info = await retrying(call, self.backoff, self.rng, COVER_ATTEMPTS)
        except AuthError as exc:
            outcome.stopped = exc
            return 0
        except BadRequest:
            outcome.gone = True
            return 0
        except (DistributorError, LookupError, TypeError, ValueError):
            return 0  # a nicety must not fail a finished run
        return info.cover_num

    def _status(self, outcome: ExecResult) -> str:
        if outcome.stopped is not None:
            return "stopped"
        return "audience gone" if outcome.gone else "done"

    def _message(self, outcome: ExecResult) -> str | None:
        if outcome.stopped is not None:
            again = reauthorize(self.account, self.segment)
            return f"{self.account.name}: {outcome.stopped}; {again}"
        return self._gone_message() if outcome.gone else None

    def _report(
        self, status: str, outcome: ExecResult, run_id: int | None = None, cover: int = 0
    ) -> RunReport:
        held = self.ledger.distributions.held(self.dist)
        ranges = self.ledger.runs.errored_ranges(run_id) if run_id else []
        counts = count(self.current, held, errored_ids(self.plan, ranges) if run_id else None)
        return RunReport(
            segment=self.segment,
            account=self.account.name,
            audience_id=self.dist.audience_id if self.dist else None,
            audience_name=self.name,
            status=status,
            entered=counts.entered,
            synced=counts.synced,
            not_synced=counts.not_synced,
            pending=counts.pending,
            errored=counts.errored,
            cover_num=cover,
            pending_deletes=counts.pending_deletes,
            deletes=self.plan.count("delete"),
            adds=self.plan.count("add"),
            batches=len(self.plan.batches),
            requests=outcome.requests,
            message=self._message(outcome),
            ids_added=ids_by_type(self.plan, "add", self.acked),
            ids_deleted=ids_by_type(self.plan, "delete", self.acked),
            errors_by_code=dict(outcome.codes),
        )


def report_complete(report: RunReport) -> bool:
    return report.pending == report.errored == report.pending_deletes == 0


def caught_up(report: RunReport | None) -> bool:
    """Done, or partial with nothing pending (only rows the platform refused for good):
    the run brought the audience up to its members, and a sync before the next commit
    would change nothing."""
    if report is None or report.status not in ("done", "partial"):
        return False
    return report.pending == report.pending_deletes == 0


PARTIAL_MESSAGE = "some members errored or are still pending: run `distributor sync` again"
HALTED = "stopped by the service; the next run resumes where this one stopped"


def _with_status(report: RunReport, status: str, message: str = PARTIAL_MESSAGE) -> RunReport:
    return RunReport(**{**report.to_dict(), "status": status, "message": message})


async def _watch(halt: threading.Event | None, stop: asyncio.Event) -> None:
    """Stop the executor when `halt` is set (by another thread: a service stopping)."""
    if halt is None:
        return
    while not halt.is_set():
        await asyncio.sleep(0.1)
    stop.set()
