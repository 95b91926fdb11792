"""`distributor demo`: the whole path on embedded defaults, against the bundled emulator.

1. start the TikTok emulator (a real HTTP server on a free loopback port);
2. register a partner and drop a realistic dirty sample file (with segments) in its inbox;
3. `resolver serve --once`: claim, resolve, store, segment versions;
4. add an ad account through the OAuth code exchange;
5. distribute a segment; then the partner sends a changed file (a full refresh: some
   members leave, others join), serve again, and `sync` deletes the leavers first;
6. show the status table, and check the emulator's audience equals the segment.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import click
import polars as pl

from config.cli import explicit_home, rows_option
from distributor.authorize import Credentials, add_account
from distributor.cli.distribute import members
from distributor.cli.render import print_reports
from distributor.sandbox.process import SandboxProcess, start_sandbox
from distributor.workspace import Workspace
from resolver import Home, Service, add_partner, atomic_file, sample_frame, write_atomic

SEGMENT = "sports fans"
PARTNER = "demo-partner"
ACCOUNT = "Demo TikTok"
SEED = 7


def _step(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


def register(main: click.Group) -> None:
    main.add_command(demo)


@click.command("demo")
@rows_option("each sample file")
@click.pass_context
def demo(ctx: click.Context, rows: int) -> None:
    """The whole path on embedded defaults: emulator, inbox, serve, account, distribute,
    a changed file, sync, status. In the home given by --home, else in a new temporary
    folder (never in TESSERA_HOME's: the demo adds a partner and an account).

    Example: distributor demo --rows 20000"""
    given = explicit_home(ctx)
    run_demo(Path(given) if given else demo_home(), rows)


def _serve(home: Home) -> None:
    service = Service(home, log=lambda line: click.echo(f"   {line}"))
    try:
        summary = service.run(once=True)
    finally:
        service.close()
    click.echo(f"   {len(summary.outcomes)} file(s), {summary.rows:,} rows")


def _audience_matches(sandbox: SandboxProcess, ws: Workspace, audience_id: str | None) -> bool:
    if audience_id is None:
        return False
    held = sandbox.members(audience_id)
    _, people = members(ws, SEGMENT)
    expected = set(people.get_column("email_sha256").drop_nulls().to_list())
    return held.get("EMAIL_SHA256", set()) == expected


def run_demo(root: Path, rows: int) -> None:
    _step("starting the TikTok emulator")
    # The emulator's synthetic users are the sample's people (same seed), so TikTok's
    # matched size (cover_num) is meaningful; people who join later are new to it.
    with start_sandbox("--users", str(max(rows, 1000)), "--seed", str(SEED)) as sandbox:
        click.echo(f"   listening at {sandbox.base_url}")
        home = _demo_home(root, sandbox)
        _step(f"partner {PARTNER} drops a {rows:,}-row file into its inbox")
        add_partner(home, PARTNER, "US")
        _drop(home, "audience-v1.csv", sample_frame(rows, seed=SEED))
        _step("resolver serve --once")
        _serve(home)
        with Workspace(home) as ws:
            _step("adding the ad account (OAuth code exchange, role check)")
            code = sandbox.auth_code([sandbox.advertiser()])
            credentials = Credentials(auth_code=code)
            line = asyncio.run(
                add_account(ws, "tiktok", sandbox.advertiser(), ACCOUNT, credentials)
            )
            click.echo(f"   {line}")
            _step(f"distribute {SEGMENT!r}")
            first = ws.distribute(*members(ws, SEGMENT), ACCOUNT)
            click.echo(f"   {first.adds:,} ids added in {first.batches} batches")
            _step("the partner sends a changed file (full refresh): some leave, some join")
            _drop(home, "audience-v2.csv", _refreshed(rows))
            _serve(home)
            _step(f"sync {SEGMENT!r}: deletes first, then adds")
            second = ws.sync(*members(ws, SEGMENT))
            click.echo(f"   deleted {second.deletes:,} ids, then added {second.adds:,}")
            _step("status")
            print_reports([second.to_dict()])
            same = _audience_matches(sandbox, ws, second.audience_id)
        click.echo(f"   emulator audience holds exactly the segment's email keys: {same}")
        log = sandbox.requests()
        mapping = [e for e in log if e["path"] == "segment/mapping/"]
        click.echo(f"   requests sent: {len(log)} ({len(mapping)} mapping batches)")
    click.echo(f"\nThe demo's home is {root}: `resolver --home {root} status` shows it.")


def _demo_home(root: Path, sandbox: SandboxProcess) -> Home:
    """A home whose settings point at the emulator (through the environment, as an
    operator would), with files taken as soon as they are complete."""
    os.environ["TESSERA_HOME"] = str(root)
    os.environ["TESSERA_TIKTOK__API_BASE_URL"] = sandbox.base_url
    os.environ["TESSERA_TIKTOK__APP_ID"] = str(sandbox.info["app_id"])
    os.environ["TESSERA_TIKTOK__APP_SECRET"] = str(sandbox.info["app_secret"])
    os.environ["TESSERA_INBOX__STABLE_SECONDS"] = "0"
    home = Home.open(root)
    home.initialize()
    return home


def _refreshed(rows: int) -> pl.DataFrame:
    """The first file without its first 10% of rows, and 5% new people."""
    kept = sample_frame(rows, seed=SEED).slice(rows // 10)
    joined = sample_frame(max(rows // 20, 1), seed=2, persons=10 * rows)
    return pl.concat([kept, joined])


def _drop(home: Home, name: str, frame: pl.DataFrame) -> None:
    """Write a file into the partner's inbox as a partner should: whole, then `.done`."""
    path = home.inbox / PARTNER / name
    with atomic_file(path) as handle:
        frame.write_csv(handle)
    write_atomic(path.with_name(name + ".done"), b"")


def demo_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="tessera-demo-"))
