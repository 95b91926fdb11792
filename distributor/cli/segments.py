"""`distributor segments`: the resolver's segments, and where each is distributed."""

from __future__ import annotations

import time
from typing import Any

import click

from config.tables import print_json, print_records
from distributor.cli.render import print_reports, print_table, run_metrics
from distributor.cli.state import CliState, pass_state
from distributor.workspace import Workspace
from resolver import Segments


def register(main: click.Group) -> None:
    main.add_command(segments)


def segment_workspace(state: CliState) -> Workspace:
    """The workspace of a home that has segments (else an error saying how to get some)."""
    ws = state.workspace()
    if not ws.home.control_db.exists():
        raise click.ClickException(
            f"{ws.home.root} has no segments yet: run `resolver serve` on partner files first"
        )
    return ws


def distributed_to(ws: Workspace) -> dict[str, list[str]]:
    names = ws.ledger.accounts.names()
    found: dict[str, list[str]] = {}
    for dist in ws.ledger.distributions.all():
        found.setdefault(dist.segment, []).append(names.get(dist.account_id, "?"))
    return found


@click.group()
def segments() -> None:
    """Segments built by the resolver: list, show, copy, rename."""


@segments.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def segments_list(state: CliState, as_json: bool) -> None:
    """Segments with their versions, members and where they are distributed.

    Example: distributor segments list --json"""
    with segment_workspace(state) as ws, Segments(ws.home) as api:
        where = distributed_to(ws)
        records: list[dict[str, Any]] = [
            {
                "segment": s.name,
                "partner": s.partner,
                "version": s.version,
                "members": s.members,
                "copy_of": s.copy_of,
                "distributed_to": where.get(s.name, []),
            }
            for s in api.all()
        ]
    if not as_json:  # a table shows the accounts as one cell
        for record in records:
            record["distributed_to"] = ", ".join(record["distributed_to"])
    print_records("Segments", "segments", records, as_json=as_json, right=("members",))


@segments.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@pass_state
def segments_show(state: CliState, name: str, as_json: bool) -> None:
    """A segment's versions (joins and leaves) and distributions.

    Example: distributor segments show 'sports fans'"""
    with segment_workspace(state) as ws:
        with Segments(ws.home) as api:
            info, versions = api.get(name), api.versions(name)
        runs = [r for r in ws.ledger.distributions.last_runs() if r["segment"] == info.name]
    if as_json:
        segment = {"segment": info.name, "partner": info.partner, "version": info.version}
        segment |= {"members": info.members, "copy_of": info.copy_of}
        history = [
            {"version": v.version, "members": v.members, "joined": v.added, "left": v.removed}
            | {"file_id": v.file_id, "created": v.created}
            for v in versions
        ]
        payload = {**segment, "versions": history, "distributions": [run_metrics(r) for r in runs]}
        print_json(payload)
        return
    copy = f", copy of {info.copy_of}" if info.copy_of else ""
    click.echo(
        f"{info.name} (partner {info.partner}): version {info.version},"
        f" {info.members:,} members{copy}"
    )
    rows = [
        [
            v.version,
            f"{v.members:,}",
            f"{v.added:,}",
            f"{v.removed:,}",
            v.file_id or "",
            time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(v.created)),
        ]
        for v in versions
    ]
    print_table("Versions", ["version", "members", "joined", "left", "file", "created (UTC)"], rows)
    if runs:
        print_reports([run_metrics(r) for r in runs])
    else:
        click.echo("not distributed yet: `distributor distribute NAME --account ACCOUNT`")


@segments.command("copy")
@click.argument("name")
@click.option("--name", "new_name", required=True, help="Name of the copy.")
@pass_state
def segments_copy(state: CliState, name: str, new_name: str) -> None:
    """A copy with its own name and history that follows the source's members, so the
    same people can go to a second ad account.

    Example: distributor segments copy 'sports fans' --name 'sports fans EU'"""
    with segment_workspace(state) as ws, Segments(ws.home) as api:
        info = api.copy(name, new_name)
    click.echo(f"created {info.name!r}, a copy of {info.copy_of!r} ({info.members:,} members)")


@segments.command("rename")
@click.argument("name")
@click.option("--name", "new_name", required=True, help="The new name.")
@pass_state
def segments_rename(state: CliState, name: str, new_name: str) -> None:
    """Rename a segment (its distributions follow; audience names stay).

    Example: distributor segments rename 'sports fans' --name 'sports lovers'"""
    with segment_workspace(state) as ws:
        with Segments(ws.home) as api:
            old = api.get(name).name
            info = api.rename(name, new_name)
        ws.ledger.distributions.rename_segment(old, info.name)
    click.echo(f"renamed {old!r} to {info.name!r}")
