"""`distributor sandbox`: run the bundled TikTok emulator as a real HTTP server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click

from config import load_settings
from distributor.cli.state import CliState, pass_state
from distributor.sandbox.faults import Faults


def register(main: click.Group) -> None:
    main.add_command(sandbox)


@click.command()
@click.option("--host", default=None, help="Interface to bind [default: 127.0.0.1].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port; 0 picks a free one [default: 8765].",
)
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
@click.option(
    "--truncate-names",
    is_flag=True,
    help='Store audience names over 70 characters as 67 + "..." (reported, unconfirmed).',
)
@pass_state
def sandbox(
    state: CliState,
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
    truncate_names: bool,
) -> None:
    """Run a local TikTok Business API v1.3 emulator (a real HTTP server).

    Prints one JSON line (base URL, app id and secret, seeded advertisers with Admin,
    Operator and Analyst tokens) once it listens; stops cleanly on SIGINT or SIGTERM.

    Example: distributor sandbox --port 0 --seed 7"""
    overrides = {
        "sandbox.host": host,
        "sandbox.port": port,
        "sandbox.seed": seed,
        "sandbox.user_base_size": user_base_size,
        "sandbox.requests_per_second": rps,
        "sandbox.requests_per_minute": rpm,
    }
    faults = Faults(latency_ms=latency_ms, error_rate_5xx=error_rate, drop_rate=drop_rate)
    _serve(state.home_arg, overrides, state_file, truncate_names, faults)


def _serve(
    home_arg: str | None,
    overrides: Mapping[str, object],
    state_file: Path | None,
    truncate_names: bool,
    faults: Faults,
) -> None:
    from distributor.sandbox.serve import serve  # the server's imports only when it runs
    from distributor.sandbox.state import SandboxOptions, make_sandbox

    conf = load_settings(home_arg, overrides).sandbox
    options = SandboxOptions(
        seed=conf.seed,
        state_file=state_file,
        user_base_size=conf.user_base_size,
        requests_per_second=conf.requests_per_second,
        requests_per_minute=conf.requests_per_minute,
        truncate_names=truncate_names,
    )
    serve(make_sandbox(options, faults), conf.host, conf.port)
