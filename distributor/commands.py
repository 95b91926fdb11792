"""`distributor segments`, `distribute`, `sync` and `status`: segments from the resolver's
public API, sent and kept in sync through the ledger."""

from __future__ import annotations

import json
import time
from typing import Any

import click
import polars as pl

from distributor.destinations.base import DestinationError
from distributor.metrics import RunReport
from distributor.report import print_reports, print_table
from distributor.rules import RuleError
from distributor.service import RunStopped, distribute, open_home, open_ledger, sync
from resolver import Home, ResolverError, Segments


def _home(ctx: click.Context) -> Home:
    home = open_home(ctx.obj)
    if not (home.state / "resolver.db").exists():
        raise click.ClickException(
            f"{home.root} has no segments yet: run `resolver serve` on partner files first"
        )
    return home


def _members(home: Home, name: str) -> tuple[str, pl.DataFrame]:
    """The segment's canonical name and its latest members with match keys."""
    with Segments(home) as segments:
        info = segments.get(name)
        return info.name, segments.members(info.name)


def _distributed_to(home: Home) -> dict[str, list[str]]:
    ledger = open_ledger(home)
    try:
        names = {a.id: a.name for a in ledger.accounts()}
        found: dict[str, list[str]] = {}
        for dist in ledger.distributions():
            found.setdefault(dist.segment, []).append(names.get(dist.account_id, "?"))
        return found
    finally:
        ledger.close()


def _emit(reports: list[RunReport], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
        return
    print_reports([r.to_dict() for r in reports])
    for report in reports:
        if report.status == "dry-run":
            click.echo(
                f"dry run for {report.segment}: would delete {report.deletes:,} and then add"
                f" {report.adds:,} ids in {report.batches} batches; nothing was sent"
            )


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


def register(main: click.Group) -> None:
    @main.group()
    def segments() -> None:
        """Segments built by the resolver: list, show, copy, rename."""

    @segments.command("list")
    @click.pass_context
    def segments_list(ctx: click.Context) -> None:
        """Segments with their versions, members and where they are distributed."""
        home = _home(ctx)
        where = _distributed_to(home)
        with Segments(home) as api:
            rows = [
                [
                    s.name,
                    s.partner,
                    s.version,
                    f"{s.members:,}",
                    s.copy_of or "",
                    ", ".join(where.get(s.name, [])),
                ]
                for s in api.all()
            ]
        print_table(
            "Segments",
            ["segment", "partner", "version", "members", "copy of", "distributed to"],
            rows,
        )

    @segments.command("show")
    @click.argument("name")
    @click.pass_context
    def segments_show(ctx: click.Context, name: str) -> None:
        """A segment's versions (joins and leaves) and distributions."""
        home = _home(ctx)
        try:
            with Segments(home) as api:
                info = api.get(name)
                versions = api.versions(name)
        except ResolverError as exc:
            raise _fail(exc) from None
        click.echo(
            f"{info.name} (partner {info.partner}): version {info.version},"
            f" {info.members:,} members" + (f", copy of {info.copy_of}" if info.copy_of else "")
        )
        print_table(
            "Versions",
            ["version", "members", "joined", "left", "file", "created (UTC)"],
            [
                [
                    v.version,
                    f"{v.members:,}",
                    f"{v.added:,}",
                    f"{v.removed:,}",
                    v.file_id or "",
                    time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(v.created)),
                ]
                for v in versions
            ],
        )
        ledger = open_ledger(home)
        try:
            runs = [r for r in ledger.last_runs() if r["segment"] == info.name]
        finally:
            ledger.close()
        if runs:
            print_reports([_run_metrics(r) for r in runs])
        else:
            click.echo("not distributed yet: `distributor distribute NAME --account ACCOUNT`")

    @segments.command("copy")
    @click.argument("name")
    @click.option("--name", "new_name", required=True, help="Name of the copy.")
    @click.pass_context
    def segments_copy(ctx: click.Context, name: str, new_name: str) -> None:
        """A copy with its own name and history that follows the source's members, so the
        same people can go to a second ad account."""
        try:
            with Segments(_home(ctx)) as api:
                info = api.copy(name, new_name)
        except ResolverError as exc:
            raise _fail(exc) from None
        click.echo(f"created {info.name!r}, a copy of {info.copy_of!r} ({info.members:,} members)")

    @segments.command("rename")
    @click.argument("name")
    @click.option("--name", "new_name", required=True, help="The new name.")
    @click.pass_context
    def segments_rename(ctx: click.Context, name: str, new_name: str) -> None:
        """Rename a segment (its distributions follow; audience names stay)."""
        home = _home(ctx)
        try:
            with Segments(home) as api:
                old = api.get(name).name
                info = api.rename(name, new_name)
        except ResolverError as exc:
            raise _fail(exc) from None
        ledger = open_ledger(home)
        try:
            with ledger.tx() as db:
                db.execute(
                    "UPDATE distributions SET segment = ? WHERE segment = ?", (info.name, old)
                )
        finally:
            ledger.close()
        click.echo(f"renamed {old!r} to {info.name!r}")

    @main.command("distribute")
    @click.argument("segment")
    @click.option("--account", required=True, help="Ad account name (`accounts list`).")
    @click.option("--dry-run", is_flag=True, help="Print the plan; send nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def distribute_command(
        ctx: click.Context, segment: str, account: str, dry_run: bool, as_json: bool
    ) -> None:
        """Send a segment to an ad account (creating its audience on first use)."""
        home = _home(ctx)
        try:
            name, members = _members(home, segment)
            report = distribute(
                home, home.settings, name, members, account, dry_run, progress=not as_json
            )
        except (ResolverError, RuleError, DestinationError) as exc:
            raise _fail(exc) from None
        _emit([report], as_json)

    @main.command("sync")
    @click.argument("segment", required=False)
    @click.option("--all", "every", is_flag=True, help="Every distributed segment.")
    @click.option("--dry-run", is_flag=True, help="Print the plans; send nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def sync_command(
        ctx: click.Context, segment: str | None, every: bool, dry_run: bool, as_json: bool
    ) -> None:
        """Record sync: delete who left, then add who joined, for each distribution."""
        if (segment is None) == (not every):
            raise click.UsageError("name a SEGMENT or pass --all")
        home = _home(ctx)
        names = [segment] if segment else sorted(_distributed_to(home))
        reports: list[RunReport] = []
        failures = 0
        for name in names:
            try:
                canonical, members = _members(home, name)
                reports.append(
                    sync(home, home.settings, canonical, members, dry_run, progress=not as_json)
                )
            except RunStopped as exc:
                reports.append(exc.report)
                failures += 1
                click.echo(f"{name}: {exc}", err=True)
            except (ResolverError, RuleError, DestinationError) as exc:
                if segment:
                    raise _fail(exc) from None
                failures += 1
                click.echo(f"{name}: {exc}", err=True)
        _emit(reports, as_json)
        if failures:
            raise click.ClickException(f"{failures} of {len(names)} syncs did not finish")

    @main.command("status")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.pass_context
    def status_command(ctx: click.Context, as_json: bool) -> None:
        """Per distribution: entered, synced, not synced, pending, errored, matched size."""
        home = open_home(ctx.obj)
        ledger = open_ledger(home)
        try:
            runs = [_run_metrics(r) for r in ledger.last_runs()]
        finally:
            ledger.close()
        if as_json:
            click.echo(json.dumps(runs, indent=2))
        else:
            print_reports(runs)


def _run_metrics(row: dict[str, Any]) -> dict[str, Any]:
    metrics = json.loads(row.get("metrics") or "{}")
    merged = {**metrics, **{k: v for k, v in row.items() if k != "metrics" and v is not None}}
    merged.setdefault("status", "never run")
    return merged
