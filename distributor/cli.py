"""`distributor`: ad accounts, segments, distribution and record sync; the TikTok sandbox."""

from __future__ import annotations

from pathlib import Path

import click


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
    """Send segments to ad accounts and keep them in sync."""
    ctx.obj = home


@main.command()
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port; 0 picks a free one [default: 8765].")
@click.option("--seed", type=int, default=None, help="Seed for IDs, tokens and the user base.")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Keep the emulator's state in this file across restarts.",
)
@click.option(
    "--users",
    "user_base_size",
    type=int,
    default=None,
    help="Synthetic users TikTok knows, for matched sizes [default: 200000].",
)
@click.option("--rps", type=int, default=None, help="Requests per second per token (0: off).")
@click.option("--rpm", type=int, default=None, help="Requests per minute per token (0: off).")
@click.option("--latency-ms", type=float, default=0.0, help="Added latency per request.")
@click.option("--error-rate", type=float, default=0.0, help="Share of requests answered 503.")
@click.option("--drop-rate", type=float, default=0.0, help="Share of connections dropped.")
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    seed: int | None,
    state_file: Path | None,
    user_base_size: int | None,
    rps: int | None,
    rpm: int | None,
    latency_ms: float,
    error_rate: float,
    drop_rate: float,
) -> None:
    """Run a local TikTok Business API v1.3 emulator (a real HTTP server).

    Prints one JSON line (base URL, app id and secret, seeded advertisers with Admin,
    Operator and Analyst tokens) once it listens; stops cleanly on SIGINT or SIGTERM."""
    from config import load_settings
    from distributor.sandbox.app import Faults
    from distributor.sandbox.server import make_sandbox, serve

    conf = load_settings(ctx.obj).section("sandbox")
    box = make_sandbox(
        seed=conf["seed"] if seed is None else seed,
        state_file=state_file,
        user_base_size=conf["user_base_size"] if user_base_size is None else user_base_size,
        per_second=conf["requests_per_second"] if rps is None else rps,
        per_minute=conf["requests_per_minute"] if rpm is None else rpm,
        faults=Faults(latency_ms=latency_ms, error_rate_5xx=error_rate, drop_rate=drop_rate),
    )
    serve(box, conf["host"] if host is None else host, conf["port"] if port is None else port)
