"""`resolver partners`, `resolver serve` and `resolver status`."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from resolver.api import Segments
from resolver.errors import ResolverError
from resolver.home import Home
from resolver.normalize import check_region
from resolver.report import row_progress
from resolver.service import Service, control_for, summary_json

PARTNER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def add_partner(home: Home, name: str, region: str) -> bool:
    if not PARTNER_NAME.match(name):
        raise click.BadParameter(
            "use 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit",
            param_hint="NAME",
        )
    try:
        region = check_region(region)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--region") from None
    home.initialize()
    for folder in (home.inbox, home.outbox, home.quarantine):
        (folder / name).mkdir(mode=0o700, exist_ok=True)
    (home.inbox / name / "optout").mkdir(mode=0o700, exist_ok=True)
    control = control_for(home)
    try:
        return control.add_partner(name, region)
    finally:
        control.close()


def register(
    main: click.Group, pass_state: Callable[[Callable[..., None]], Callable[..., None]]
) -> None:
    @main.group()
    def partners() -> None:
        """Partners who drop files into inbox/<partner>/."""

    @partners.command("add")
    @click.argument("name")
    @click.option("--region", default="US", show_default=True, help="Default phone region.")
    @pass_state
    def partners_add(state: Any, name: str, region: str) -> None:
        """Register a partner and create its inbox, outbox and quarantine (0700)."""
        home = state.home()
        created = add_partner(home, name, region)
        verb = "added" if created else "already exists:"
        click.echo(f"{verb} partner {name}: drop files into {home.inbox / name}/")

    @partners.command("list")
    @pass_state
    def partners_list(state: Any) -> None:
        """List the partners with their file counts."""
        home = state.home()
        control = control_for(home)
        table = Table("partner", "region", "files", "committed", "quarantined", "inbox")
        for row in control.partners():
            counts = dict(
                control.db.execute(
                    "SELECT state, count(*) FROM files WHERE partner = ? GROUP BY state",
                    (row["name"],),
                ).fetchall()
            )
            table.add_row(
                row["name"],
                row["region"],
                str(sum(counts.values())),
                str(counts.get("purged", 0) + counts.get("committed", 0)),
                str(counts.get("quarantined", 0)),
                str(home.inbox / row["name"]),
            )
        Console().print(table)

    @main.command()
    @click.option("--once", is_flag=True, help="Process what is in the inbox, then exit.")
    @click.option("--interval", type=float, default=None, help="Seconds between listings.")
    @click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
    @pass_state
    def serve(state: Any, once: bool, interval: float | None, as_json: bool) -> None:
        """Take partners' files from the inbox exactly once, even across crashes."""
        home = state.home()
        console = Console(stderr=True)
        try:
            service = Service(home, log=lambda line: console.print(line, highlight=False))
            summary = service.run(once=once, interval=interval, progress=_progress(console))
        except ResolverError as exc:
            raise click.ClickException(str(exc)) from None
        if as_json:
            click.echo(summary_json(summary))
            return
        counts = ", ".join(f"{n} {state}" for state, n in sorted(summary.counts().items()))
        rate = summary.rows / summary.seconds if summary.seconds else 0.0
        click.echo(
            f"{len(summary.outcomes)} files ({counts or 'none'}); {summary.rows:,} rows"
            f" in {summary.seconds:.1f}s ({rate:,.0f} rows/s)"
        )

    @main.command()
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @pass_state
    def status(state: Any, as_json: bool) -> None:
        """Files by state, recent throughput, quarantined files, segments."""
        data = status_data(state.home())
        if as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True))
            return
        _print_status(data)


def _progress(console: Console) -> Any:
    return lambda label, size: row_progress(console, size, label)


def status_data(home: Home) -> dict[str, Any]:
    control = control_for(home)
    try:
        recent = control.db.execute(
            "SELECT sum(rows) AS rows, sum(seconds) AS seconds, count(*) AS files FROM"
            " (SELECT rows, seconds FROM files WHERE state IN ('committed', 'purged')"
            " AND seconds > 0 ORDER BY id DESC LIMIT 20)"
        ).fetchone()
        quarantined = [
            {
                "file_id": row["id"],
                "partner": row["partner"],
                "file": row["name"],
                "when": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row["updated"])),
                **{
                    k: v
                    for k, v in json.loads(row["error"] or "{}").items()
                    if k in ("code", "line", "column", "message")
                },
            }
            for row in control.files("quarantined", limit=50)
        ]
        files = control.counts_by_state()
    finally:
        control.close()
    with Segments(home) as segments:
        segs = [
            {
                "name": s.name,
                "partner": s.partner,
                "version": s.version,
                "members": s.members,
                "copy_of": s.copy_of,
            }
            for s in segments.all()
        ]
    seconds = float(recent["seconds"] or 0.0)
    return {
        "files": files,
        "recent": {
            "files": int(recent["files"] or 0),
            "rows": int(recent["rows"] or 0),
            "rows_per_second": round((recent["rows"] or 0) / seconds, 1) if seconds else 0.0,
        },
        "quarantined": quarantined,
        "segments": segs,
    }


def _print_status(data: dict[str, Any]) -> None:
    console = Console()
    states = Table("state", "files", title="Files")
    for name in ("claimed", "processed", "committed", "purged", "duplicate", "quarantined"):
        states.add_row(name, f"{data['files'].get(name, 0):,}")
    console.print(states)
    recent = data["recent"]
    console.print(
        f"Recent throughput: {recent['rows']:,} rows in {recent['files']} files,"
        f" {recent['rows_per_second']:,.0f} rows/s"
    )
    if data["quarantined"]:
        table = Table("id", "partner", "file", "code", "line", "column", "when", title="Quarantine")
        for q in data["quarantined"]:
            table.add_row(
                str(q["file_id"]),
                q["partner"],
                q["file"],
                str(q.get("code")),
                str(q.get("line") or ""),
                str(q.get("column") or ""),
                q["when"],
            )
        console.print(table)
    table = Table("segment", "partner", "version", "members", "copy of", title="Segments")
    for s in data["segments"]:
        members = f"{s['members']:,}"
        table.add_row(s["name"], s["partner"], str(s["version"]), members, s["copy_of"] or "")
    console.print(table)
