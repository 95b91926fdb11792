"""`resolver quarantine`: list, retry and purge quarantined files (resolver/inbox/quarantine.py)."""

from __future__ import annotations

import click

from config.cli import confirm, yes_option
from config.tables import print_records
from resolver.cli.state import CliState, pass_state
from resolver.home import Home
from resolver.inbox import quarantine as q
from resolver.inbox.status import quarantined_record
from resolver.state.control import QUARANTINED, Control, FileRecord


def register(main: click.Group) -> None:
    main.add_command(quarantine)


@click.group()
def quarantine() -> None:
    """Files set aside as unreadable: list, retry, purge."""


@quarantine.command("list")
@click.option("--partner", default=None, help="Only this partner's files.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def quarantine_list(state: CliState, partner: str | None, as_json: bool) -> None:
    """Quarantined files with why (codes and places, never values) and when they expire.

    Example: resolver quarantine list --partner acme"""
    home = state.home()
    records = [
        quarantined_record(rec) | {"expires": q.expires(home, rec)}
        for rec in _quarantined(home, partner)
    ]
    print_records("Quarantine", "quarantined", records, as_json=as_json)


def _quarantined(home: Home, partner: str | None) -> list[FileRecord]:
    with Control(home.control_db) as control:
        found = control.files(QUARANTINED, limit=1_000_000)
    return [rec for rec in found if partner is None or rec.partner == partner]


@quarantine.command("retry")
@click.argument("file_ids", metavar="ID...", nargs=-1, required=True, type=int)
@pass_state
def quarantine_retry(state: CliState, file_ids: tuple[int, ...]) -> None:
    """Send quarantined files back to their partner's inbox, to be taken again as new
    files (after the cause was fixed: a setting, a registration, the file itself).

    Example: resolver quarantine retry 12"""
    home = state.home()
    with Control(home.control_db) as control:
        for file_id in file_ids:
            target = q.retry(home, control, file_id)
            click.echo(f"file {file_id} is back in {target.relative_to(home.root)}")


@quarantine.command("purge")
@click.argument("file_ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every quarantined file (of --partner).")
@click.option("--partner", default=None, help="With --all: only this partner's files.")
@yes_option
@pass_state
def quarantine_purge(
    state: CliState, file_ids: tuple[int, ...], every: bool, partner: str | None, yes: bool
) -> None:
    """Delete quarantined files (the raw files, their sidecars and errors); their
    records stay, as `discarded`. Files expire by themselves after inbox.quarantine_days.

    Example: resolver quarantine purge --all --partner acme --yes"""
    if bool(file_ids) == every:
        raise click.UsageError("name the files' IDs or pass --all")
    if partner is not None and not every:
        raise click.UsageError("--partner goes with --all")
    home = state.home()
    ids = list(file_ids) or [rec.id for rec in _quarantined(home, partner)]
    if not ids:
        click.echo("nothing is quarantined")
        return
    confirm(f"This will delete {len(ids)} quarantined file(s) for good. Go on?", yes)
    with Control(home.control_db) as control:
        done = q.purge(home, control, ids)
    click.echo(f"deleted {len(done)} quarantined file(s)")
