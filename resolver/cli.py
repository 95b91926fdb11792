"""`resolver`: files in, keyed pseudonymous IDs and segment memberships out."""

from __future__ import annotations

import sys

import click

from config import SettingsError
from resolver.home import Home
from resolver.keys import KeyError_


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


def run() -> None:  # pragma: no cover - console entry
    sys.exit(main())
