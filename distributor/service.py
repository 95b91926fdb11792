"""Entry points for distribution: `distribute` (create the audience if needed, upload)
and `sync` (bring an existing distribution up to the segment's members). Both plan
against the ledger's record of what the destination holds, execute, fold the outcome
back into the ledger, and return a RunReport."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import polars as pl

from config import Settings
from distributor.destinations import platform
from distributor.destinations.base import AuthError, Capabilities, TransientError
from distributor.destinations.tiktok import TikTokDestination
from distributor.executor import REAUTHORIZE, ExecConfig, Executor
from distributor.ledger import TOKEN_PURPOSE, Distribution, Ledger
from distributor.metrics import RunReport, errored_ids, run_report
from distributor.plan import Plan, current_from_members, plan_long, to_long
from distributor.rules import (
    RuleError,
    audience_name,
    check_audience_cap,
    check_audience_name,
    check_one_account,
)
from resolver import Home

T = TypeVar("T")
SECRET_ENV = "TESSERA_TIKTOK__APP_SECRET"  # noqa: S105 (a variable name)


class RunStopped(AuthError):
    """The account's token stopped working mid-run; `report` holds the partial metrics."""

    def __init__(self, message: str, report: RunReport) -> None:
        super().__init__(message)
        self.report = report


def open_home(root: str | Path | None = None) -> Home:
    """The home with its settings (the app secret, TESSERA_TIKTOK__APP_SECRET, is read with
    Settings.secret; config keeps it out of the settings)."""
    return Home.open(root)


def open_ledger(home: Home) -> Ledger:
    home.state.mkdir(parents=True, exist_ok=True)
    return Ledger(home.state, home.keyring().subkey(TOKEN_PURPOSE))


def capabilities(settings: Settings, name: str = "tiktok") -> Capabilities:
    return platform(name)[0](settings)


def destination(
    settings: Settings, advertiser_id: str, token: str, name: str = "tiktok"
) -> TikTokDestination:
    return platform(name)[1](settings, advertiser_id, token)


def distribute(
    home: Home,
    settings: Settings,
    segment_name: str,
    members: pl.DataFrame,
    account: str,
    dry_run: bool = False,
    progress: bool = False,
) -> RunReport:
    """Send a segment to an ad account, creating its audience on first use."""
    return asyncio.run(_run(home, settings, segment_name, members, account, dry_run, progress))


def sync(
    home: Home,
    settings: Settings,
    segment_name: str,
    members: pl.DataFrame,
    dry_run: bool = False,
    progress: bool = False,
) -> RunReport:
    """Bring the segment's distribution up to `members` (record sync)."""
    ledger = open_ledger(home)
    try:
        found = ledger.distributions(segment_name)
        names = {a.id: a.name for a in ledger.accounts()}
    finally:
        ledger.close()
    if not found:
        raise RuleError(
            f"segment {segment_name!r} is not distributed yet:"
            f" `distributor distribute {segment_name} --account NAME`"
        )
    account = names[found[0].account_id]
    return asyncio.run(_run(home, settings, segment_name, members, account, dry_run, progress))


async def _run(
    home: Home,
    settings: Settings,
    segment: str,
    members: pl.DataFrame,
    account_name: str,
    dry_run: bool,
    progress: bool,
) -> RunReport:
    ledger = open_ledger(home)
    try:
        account = ledger.account(account_name)
        if account is None:
            raise RuleError(
                f"no ad account named {account_name!r}: add it with `distributor accounts add`"
            )
        accounts = {a.id: a.name for a in ledger.accounts()}
        found = ledger.distributions(segment)
        check_one_account(segment, account_name, [accounts[d.account_id] for d in found])
        caps = capabilities(settings, account.platform)
        dist = next((d for d in found if d.account_id == account.id), None)
        name = dist.audience_name if dist else audience_name(segment, caps.max_name_length)
        current = current_from_members(members)
        if dist is not None:
            for run_id in ledger.unfolded_runs(dist.id):
                dist = ledger.fold(dist, run_id)
        held = ledger.held(dist) if dist is not None else None
        result = plan_long(
            held if held is not None else ledger.held(_blank()), to_long(current), caps.max_batch
        )
        if dry_run:
            return run_report(segment, account_name, dist, name, "dry-run", current, held, result)
        dest = destination(
            settings, account.advertiser_id, ledger.token(account_name), account.platform
        )
        try:
            return await _execute(
                ledger,
                dest,
                settings,
                segment,
                account_name,
                account.id,
                dist,
                name,
                current,
                result,
                progress,
            )
        finally:
            await dest.aclose()
    finally:
        ledger.close()


async def _retry(
    config: ExecConfig, call: Callable[[], Awaitable[T]], attempts: int | None = None
) -> T:
    """Control calls (list, create, get) retried like batches. Creating an audience is
    made idempotent by recording the distribution first and adopting the audience by
    name when an answer was lost."""
    deadline = time.monotonic() + config.retry_window_seconds
    attempt = 0
    while True:
        try:
            return await call()
        except TransientError:
            attempt += 1
            delay = min(config.backoff_max, config.backoff_initial * 2 ** (attempt - 1))
            delay = random.uniform(delay / 2, delay)
            if time.monotonic() + delay > deadline or (attempts and attempt >= attempts):
                raise
            await asyncio.sleep(delay)


def _blank() -> Distribution:
    return Distribution(0, "", 0, None, "", "new", None)


async def _ensure_audience(
    ledger: Ledger,
    dest: TikTokDestination,
    segment: str,
    account_name: str,
    account_id: int,
    dist: Distribution | None,
    name: str,
) -> Distribution:
    if dist is not None and dist.audience_id is not None:
        return dist
    existing = await dest.list_audiences()
    if dist is not None:  # a crash between create and record: adopt the audience by name
        adopted = next((a for a in existing if a.name == name), None)
        if adopted is not None:
            ledger.set_audience(dist.id, adopted.audience_id)
            return _reload(ledger, segment, account_id)
    check_audience_cap(account_name, len(existing), dest.capabilities.max_audiences)
    check_audience_name(name, account_name, [a.name for a in existing])
    dist_id = dist.id if dist else ledger.create_distribution(segment, account_id, name)
    ledger.set_audience(dist_id, await dest.create_audience(name))
    return _reload(ledger, segment, account_id)


def _find(ledger: Ledger, segment: str, account_id: int) -> Distribution | None:
    return next((d for d in ledger.distributions(segment) if d.account_id == account_id), None)


def _reload(ledger: Ledger, segment: str, account_id: int) -> Distribution:
    return next(d for d in ledger.distributions(segment) if d.account_id == account_id)


async def _execute(
    ledger: Ledger,
    dest: TikTokDestination,
    settings: Settings,
    segment: str,
    account_name: str,
    account_id: int,
    dist: Distribution | None,
    name: str,
    current: pl.DataFrame,
    result: Plan,
    progress: bool,
) -> RunReport:
    config = ExecConfig.from_settings(settings.section("distributor"))
    try:
        dist = await _retry(
            config,
            lambda: _ensure_audience(
                ledger,
                dest,
                segment,
                account_name,
                account_id,
                _find(ledger, segment, account_id),
                name,
            ),
        )
    except AuthError as exc:
        raise AuthError(f"{account_name}: {exc}; {REAUTHORIZE}", exc.code) from None
    assert dist.audience_id is not None
    opened = ledger.window_started(dist.id)
    if opened is not None:  # users still pending from runs that did not finish
        left = config.retry_window_seconds - (time.time() - opened)
        config = replace(config, retry_window_seconds=max(0.0, left))
    run_id = ledger.start_run(dist.id, result)
    executor = Executor(dest, ledger, config)
    outcome = await executor.run(result, dist.audience_id, run_id, progress)
    refused = errored_ids(result, ledger.errored_ranges(run_id))
    status = "stopped" if outcome.stopped else "done"
    message = f"{account_name}: {outcome.stopped}; {REAUTHORIZE}" if outcome.stopped else None
    ledger.finish_run(run_id, status, message)
    dist = ledger.fold(dist, run_id)
    cover = 0
    if outcome.stopped is None:
        try:
            audience = dist.audience_id or ""
            cover = (await _retry(config, lambda: dest.get_audience(audience), 5)).cover_num
        except Exception:
            cover = 0
    report = run_report(
        segment,
        account_name,
        dist,
        name,
        status,
        current,
        ledger.held(dist),
        result,
        refused,
        cover,
        outcome.requests,
        message,
    )
    ledger.save_metrics(run_id, report.to_dict())
    if outcome.stopped is not None:
        raise RunStopped(message or "stopped", report)
    return report
