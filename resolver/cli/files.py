"""`resolver hash`, `resolver resolve` and `resolver demo`: one file in, one file out."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import polars as pl
from rich.console import Console

from config.cli import rows_option
from resolver.cli.progress import file_progress
from resolver.cli.render import report_table
from resolver.cli.state import CliState, pass_state
from resolver.graph.partner import partner_graph
from resolver.graph.rules import GraphRules
from resolver.home import Home
from resolver.partners import check_partner_name, is_registered, resolve_options
from resolver.pipeline.report import Progress
from resolver.pipeline.run import Resolution, resolve_file
from resolver.pipeline.settle import CHUNK_SCHEMA, OUTPUT_COLUMNS
from resolver.pipeline.write import chunk_writer, output_format
from resolver.sample import write_sample

F = TypeVar("F", bound=Callable[..., Any])
Job = Callable[[Home, Path, Progress | None, "Files"], Resolution]


def register(main: click.Group) -> None:
    for command in (hash_command, resolve_command, demo):
        main.add_command(command)


def _file_options(func: F) -> F:
    """INPUT, -o/--output and --report, shared by `hash` and `resolve`."""
    options = [
        click.argument(
            "input_path",
            metavar="INPUT",
            type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
        ),
        click.option(
            "-o",
            "--output",
            required=True,
            type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
            help="Output file: .csv or .parquet, or - for CSV on standard output.",
        ),
        click.option(
            "--report",
            "report_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the report as JSON.",
        ),
        click.option("--region", default=None, help="Default phone region [default: US]."),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            help="Print the report as JSON (the --report file's form) instead of a table.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _drain(chunks: Iterator[pl.DataFrame], output: Path, empty: Mapping[str, pl.DataType]) -> None:
    with chunk_writer(output, empty_schema=empty) as writer:
        for chunk in chunks:
            writer.write(chunk)


@dataclass(frozen=True)
class Files:
    """Where a job reads and writes: the input (standard input copied to a private temp
    file for `-`) and the output (a temp file copied to standard output for `-`)."""

    input: Path
    output: Path


STDIO = Path("-")


def _run(
    state: CliState,
    files: Files,
    report_file: Path | None,
    title: str,
    job: Job,
    as_json: bool = False,
) -> None:
    _check_paths(files, report_file)
    home = state.home(made=False)  # settings and keys (TESSERA_MASTER_KEY needs no home)
    console = Console(stderr=True)
    with (
        tempfile.TemporaryDirectory(prefix="tessera-") as tmp,
        file_progress(console, title) as progress,
    ):
        here = Files(
            _stdin_copy(Path(tmp)) if files.input == STDIO else files.input,
            Path(tmp) / "stdout.csv" if files.output == STDIO else files.output,
        )
        resolution = job(home, Path(tmp), progress, here)
        if files.output == STDIO:
            with here.output.open("rb") as out:
                shutil.copyfileobj(out, sys.stdout.buffer)
            sys.stdout.flush()
    if as_json:
        shown = resolution.report.to_json()
        (sys.stderr.buffer if files.output == STDIO else sys.stdout.buffer).write(shown)
    else:
        Console(stderr=files.output == STDIO).print(report_table(resolution.report, title))
    if report_file is not None:
        resolution.report.write(report_file)


def _check_paths(files: Files, report_file: Path | None) -> None:
    """Refuse an output that is not .csv or .parquet, or that is the input."""
    if files.output != STDIO and not output_format(files.output, default=""):
        shown = files.output.suffix or "a name without an extension"
        raise click.BadParameter(
            f"{shown} is not an output format: name it .csv or .parquet, or give - for CSV"
            " on standard output",
            param_hint="'-o'",
        )
    for target, hint in ((files.output, "'-o'"), (report_file, "'--report'")):
        if target is not None and _same_file(files.input, target):
            raise click.BadParameter("is the input file, which it would overwrite", param_hint=hint)


def _same_file(a: Path, b: Path) -> bool:
    if STDIO in (a, b):
        return False
    if a.resolve() == b.resolve():
        return True
    return b.exists() and os.path.samefile(a, b)


def _stdin_copy(tmp: Path) -> Path:
    """Standard input in a private file (the reader looks at a file's start more than
    once, and gzip and Parquet need a file)."""
    path = tmp / "stdin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
    return path


@click.command("hash")
@_file_options
@click.option("--profile", default=None, help="Destination profile [default: tiktok].")
@pass_state
def hash_command(
    state: CliState,
    input_path: Path,
    output: Path,
    report_file: Path | None,
    region: str | None,
    as_json: bool,
    profile: str | None,
) -> None:
    """Normalize and SHA-256 every identifier for a destination (no key needed).

    One output row per input row, in order: email_sha256, phone_sha256, maid_sha256 and
    email_error, phone_error, maid_error, for the kinds the input has.

    Example: resolver hash people.csv -o hashed.csv --profile tiktok"""

    def job(home: Home, tmp: Path, progress: Progress | None, files: Files) -> Resolution:
        options = resolve_options(home, None, region=region, profile=profile, tmpdir=tmp)
        resolution = resolve_file(files.input, partner=None, keyring=None, options=options)
        families = resolution.job.families
        empty = {f"{f}_sha256": pl.String() for f in families}
        empty |= {f"{f}_error": pl.String() for f in families}
        _drain(resolution.hashed(progress), files.output, empty)
        return resolution

    _run(state, Files(input_path, output), report_file, "hash", job, as_json)


@click.command("resolve")
@_file_options
@click.option("--partner", required=True, help="Partner whose person_id encoding to use.")
@pass_state
def resolve_command(
    state: CliState,
    input_path: Path,
    output: Path,
    report_file: Path | None,
    region: str | None,
    as_json: bool,
    partner: str,
) -> None:
    """Give every row a keyed pseudonymous person_id for PARTNER.

    Rows are persons of PARTNER's identity graph when the partner has one in this home
    (nothing is added to it: only the inbox does that), else of a graph of this file
    alone. The partner's registered region (`partners add --region`) is the default phone
    region. One output row per input row, in order: row, person_id (empty when rejected)
    and reject_reason (empty when resolved).

    Example: resolver resolve people.csv --partner acme -o people.ids.parquet"""

    def job(home: Home, tmp: Path, progress: Progress | None, files: Files) -> Resolution:
        if not is_registered(home, partner):
            click.echo(
                f"note: {partner} is not a partner of this home: its persons come from this"
                " file alone (`resolver partners add` registers it)",
                err=True,
            )
        keyring = home.keyring()
        options = resolve_options(home, partner, region=region, tmpdir=tmp)
        rules = GraphRules.from_settings(home.settings.graph)
        resolution = resolve_file(
            files.input, partner=partner, keyring=keyring, options=options, rules=rules
        )
        base = partner_graph(home, partner)
        chunks = (chunk.select(OUTPUT_COLUMNS) for chunk in resolution.chunks(progress, base))
        _drain(chunks, files.output, {c: CHUNK_SCHEMA[c] for c in OUTPUT_COLUMNS})
        return resolution

    check_partner_name(partner)
    _run(state, Files(input_path, output), report_file, f"resolve ({partner})", job, as_json)


@click.command("demo")
@rows_option("the sample file")
@pass_state
def demo(state: CliState, rows: int) -> None:
    """Generate a realistic sample partner file and resolve it (embedded defaults).

    Example: resolver demo --rows 20000"""
    home = state.home(made=False)
    home.initialize()
    sample = write_sample(home.root / "samples" / "sample.csv", rows)
    click.echo(f"wrote {rows:,} sample rows to {sample}")
    click.get_current_context().invoke(
        resolve_command,
        input_path=sample,
        output=home.outbox / "demo" / "sample.resolved.csv",
        report_file=home.outbox / "demo" / "sample.report.json",
        region=None,
        partner="demo",
    )
