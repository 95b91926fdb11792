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

from distributor.accounts import add_account
from distributor.commands import _members
from distributor.report import print_reports
from distributor.sandbox.testing import Sandbox, start_sandbox
from distributor.service import distribute, open_home, sync
from resolver import Home, Service, add_partner, sample_frame, write_sample

SEGMENT = "sports fans"
PARTNER = "demo-partner"
SEED = 7


def _step(text: str) -> None:
    click.secho(f"\n== {text}", bold=True)


def _serve(home: Home) -> None:
    summary = Service(home, log=lambda line: click.echo(f"   {line}")).run(once=True)
    click.echo(f"   {len(summary.outcomes)} file(s), {summary.rows:,} rows")


def _audience_matches(sandbox: Sandbox, home: Home, audience_id: str | None) -> bool:
    if audience_id is None:
        return False
    held = sandbox.members(audience_id)
    _, members = _members(home, SEGMENT)
    expected = set(members.get_column("email_sha256").drop_nulls().to_list())
    return held.get("EMAIL_SHA256", set()) == expected


def run_demo(root: Path, rows: int) -> None:
    _step("starting the TikTok emulator")
    # The emulator's synthetic users are the sample's people (same seed), so TikTok's
    # matched size (cover_num) is meaningful; people who join later are new to it.
    with start_sandbox("--users", str(max(rows, 1000)), "--seed", str(SEED)) as sandbox:
        click.echo(f"   listening at {sandbox.base_url}")
        os.environ["TESSERA_HOME"] = str(root)
        os.environ["TESSERA_TIKTOK__API_BASE_URL"] = sandbox.base_url
        os.environ["TESSERA_TIKTOK__APP_ID"] = str(sandbox.info["app_id"])
        os.environ["TESSERA_TIKTOK__APP_SECRET"] = str(sandbox.info["app_secret"])
        os.environ["TESSERA_INBOX__STABLE_SECONDS"] = "0"
        home = Home.open(root)
        home.initialize()

        _step(f"partner {PARTNER} drops a {rows:,}-row file into its inbox")
        add_partner(home, PARTNER, "US")
        inbox = home.inbox / PARTNER
        write_sample(inbox / "audience-v1.csv", rows, seed=SEED)
        (inbox / "audience-v1.csv.done").write_bytes(b"")
        _step("resolver serve --once")
        _serve(home)

        _step("adding the ad account (OAuth code exchange, role check)")
        advertiser = sandbox.advertiser()
        code = sandbox.auth_code([advertiser])
        message = asyncio.run(
            add_account(str(root), "tiktok", advertiser, "Demo TikTok", None, code)
        )
        click.echo(f"   {message}")

        _step(f"distribute {SEGMENT!r}")
        settings = open_home(root).settings
        name, members = _members(home, SEGMENT)
        first = distribute(home, settings, name, members, "Demo TikTok")
        click.echo(f"   {first.adds:,} ids added in {first.batches} batches")

        _step("the partner sends a changed file (full refresh): some leave, some join")
        first_file = sample_frame(rows, seed=SEED)
        kept = first_file.slice(rows // 10)  # the first 10% of rows left
        joined = sample_frame(max(rows // 20, 1), seed=2, persons=10 * rows)
        pl.concat([kept, joined]).write_csv(inbox / "audience-v2.csv")
        (inbox / "audience-v2.csv.done").write_bytes(b"")
        _serve(home)

        _step(f"sync {SEGMENT!r}: deletes first, then adds")
        name, members = _members(home, SEGMENT)
        second = sync(home, settings, name, members)
        click.echo(f"   deleted {second.deletes:,} ids, then added {second.adds:,}")

        _step("status")
        print_reports([second.to_dict()])
        same = _audience_matches(sandbox, home, second.audience_id)
        click.echo(f"   emulator audience holds exactly the segment's email keys: {same}")
        log = sandbox.requests()
        mapping = [e for e in log if e["path"] == "segment/mapping/"]
        click.echo(f"   requests sent: {len(log)} ({len(mapping)} mapping batches)")
    click.echo(f"\nThe demo's home is {root}: `resolver --home {root} status` shows it.")


def demo_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="tessera-demo-"))
