"""`resolver`: files in, keyed pseudonymous IDs and segment memberships out."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import polars as pl
from rich.console import Console

from config import SettingsError
from resolver import commands
from resolver.errors import InputError
from resolver.home import Home
from resolver.keys import KeyError_, KeyRing
from resolver.output import chunk_writer, output_format
from resolver.pipeline import CHUNK_SCHEMA, Resolution, resolve_file
from resolver.report import report_table, row_progress, write_report


class CliState:
    """What every command gets: the home path and flag overrides, opened lazily."""

    def __init__(self, home: str | None) -> None:
        self.home_arg = home

    def home(self, overrides: dict[str, object] | None = None) -> Home:
        try:
            return Home.open(self.home_arg, overrides)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None


pass_state = click.make_pass_decorator(CliState)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    envvar="TESSERA_HOME",
    default=None,
    metavar="DIR",
    help="Tessera home folder [env TESSERA_HOME; default ./.tessera].",
)
@click.version_option(package_name="tessera")
@click.pass_context
def main(ctx: click.Context, home: str | None) -> None:
    """Resolve partner identifier files into keyed pseudonymous person IDs."""
    ctx.obj = CliState(home)


@main.command()
@pass_state
def init(state: CliState) -> None:
    """Create the home: config.toml, a 0600 master key (never overwritten), folders."""
    home = state.home()
    created = home.initialize()
    for item in created:
        click.echo(f"created {item}")
    if not created:
        click.echo(f"{home.root} is already initialized")


@main.group()
def keys() -> None:
    """Inspect keys (fingerprints only; key material is never printed)."""


@keys.command("show")
@pass_state
def keys_show(state: CliState) -> None:
    """Print the fingerprints of the master key and its derived keys."""
    try:
        ring = state.home().keyring()
    except KeyError_ as exc:
        raise click.ClickException(str(exc)) from None
    for name, value in ring.fingerprints().items():
        click.echo(f"{name:<8} {value}")


def _partner_settings(home: Home, partner: str | None) -> dict[str, Any]:
    table = home.settings.section("partners").get(partner or "", {})
    return dict(table) if isinstance(table, dict) else {}


def _open(
    home: Home,
    path: Path,
    partner: str | None,
    keyring: KeyRing | None,
    region: str | None,
    profile: str | None,
    tmpdir: Path,
) -> Resolution:
    """Open an input for resolving with the home's settings; user errors become clean
    click errors naming the file, line and column."""
    partner_conf = _partner_settings(home, partner)
    try:
        return resolve_file(
            path,
            partner=partner,
            keyring=keyring,
            region=region
            or partner_conf.get("region")
            or home.settings.get("resolver.default_region"),
            profile=profile or str(home.settings.get("resolver.profile")),
            chunk_rows=int(home.settings.get("resolver.chunk_rows")),
            aliases=partner_conf.get("aliases"),
            max_line_bytes=int(home.settings.get("resolver.max_line_bytes")),
            max_decompressed_bytes=int(home.settings.get("inbox.max_decompressed_bytes")),
            max_compression_ratio=float(home.settings.get("inbox.max_compression_ratio")),
            tmpdir=tmpdir,
        )
    except (InputError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _drain(
    chunks: Iterator[pl.DataFrame],
    output: Path,
    columns: list[str] | None,
    empty: Mapping[str, pl.DataType],
) -> None:
    try:
        with chunk_writer(output, output_format(output), empty) as writer:
            for chunk in chunks:
                writer.write(chunk if columns is None else chunk.select(columns))
    except InputError as exc:
        raise click.ClickException(str(exc)) from None


def _run(
    state: CliState,
    input_path: Path,
    output: Path,
    report_file: Path | None,
    title: str,
    job: Callable[[Home, Path, Callable[[int], None] | None], Resolution],
) -> None:
    home = state.home()
    console = Console(stderr=True)
    with (
        tempfile.TemporaryDirectory(prefix="tessera-") as tmp,
        row_progress(console, input_path.stat().st_size, title) as progress,
    ):
        resolution = job(home, Path(tmp), progress)
    Console().print(report_table(resolution.report, title))
    if report_file is not None:
        write_report(resolution.report, report_file)


@main.command("hash")
@click.argument(
    "input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file; .csv or .parquet.",
)
@click.option("--profile", default=None, help="Destination profile [default: tiktok].")
@click.option("--region", default=None, help="Default phone region [default: US].")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON.",
)
@pass_state
def hash_command(
    state: CliState,
    input_path: Path,
    output: Path,
    profile: str | None,
    region: str | None,
    report_file: Path | None,
) -> None:
    """Normalize and SHA-256 every identifier for a destination (no key needed).

    One output row per input row, in order: email_sha256, phone_sha256, maid_sha256 and
    email_error, phone_error, maid_error, for the kinds the input has."""

    def job(home: Home, tmp: Path, progress: Callable[[int], None] | None) -> Resolution:
        resolution = _open(home, input_path, None, None, region, profile, tmp)
        fams = [
            f
            for f in ("email", "phone", "maid")
            if any(
                c.startswith(f) or (f == "maid" and c in ("idfa", "gaid"))
                for c in resolution.columns
            )
        ]
        empty = {f"{f}_sha256": pl.String() for f in fams} | {
            f"{f}_error": pl.String() for f in fams
        }
        _drain(resolution.hashed(progress), output, None, empty)
        return resolution

    _run(state, input_path, output, report_file, "hash", job)


@main.command("resolve")
@click.argument(
    "input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--partner", required=True, help="Partner whose person_id encoding to use.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file; .csv or .parquet.",
)
@click.option("--region", default=None, help="Default phone region [default: US].")
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as JSON.",
)
@pass_state
def resolve_command(
    state: CliState,
    input_path: Path,
    partner: str,
    output: Path,
    region: str | None,
    report_file: Path | None,
) -> None:
    """Give every row a keyed pseudonymous person_id for PARTNER.

    One output row per input row, in order: row, person_id (empty when rejected) and
    reject_reason (empty when resolved)."""

    def job(home: Home, tmp: Path, progress: Callable[[int], None] | None) -> Resolution:
        try:
            keyring = home.keyring()
        except KeyError_ as exc:
            raise click.ClickException(str(exc)) from None
        resolution = _open(home, input_path, partner, keyring, region, None, tmp)
        columns = ["row", "person_id", "reject_reason"]
        _drain(resolution.chunks(progress), output, columns, {c: CHUNK_SCHEMA[c] for c in columns})
        return resolution

    _run(state, input_path, output, report_file, f"resolve ({partner})", job)


@main.command("demo")
@click.option("--rows", default=100_000, show_default=True, help="Rows in the sample file.")
@pass_state
def demo(state: CliState, rows: int) -> None:
    """Generate a realistic sample partner file and resolve it (embedded defaults)."""
    from resolver.sample import write_sample

    home = state.home()
    home.initialize()
    sample = home.root / "samples" / "sample.csv"
    write_sample(sample, rows)
    click.echo(f"wrote {rows:,} sample rows to {sample}")
    ctx = click.get_current_context()
    ctx.invoke(
        resolve_command,
        input_path=sample,
        partner="demo",
        output=home.outbox / "demo" / "sample.resolved.csv",
        region=None,
        report_file=home.outbox / "demo" / "sample.report.json",
    )


commands.register(main, pass_state)


def run() -> None:  # pragma: no cover - console entry
    sys.exit(main())
