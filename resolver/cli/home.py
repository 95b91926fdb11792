"""`resolver init` and `resolver keys`: the home and its keys."""

from __future__ import annotations

import click

from config.tables import print_json
from resolver.cli.state import CliState, pass_state


def register(main: click.Group) -> None:
    main.add_command(init)
    main.add_command(keys)


@click.command()
@pass_state
def init(state: CliState) -> None:
    """Create the home: config.toml, a 0600 master key (never overwritten), folders.

    Example: resolver init --home /srv/tessera"""
    home = state.home(made=False)
    created = home.initialize()
    for item in created:
        click.echo(f"created {item}")
    if not created:
        click.echo(f"{home.root} is already initialized")


@click.group()
def keys() -> None:
    """Inspect keys (fingerprints only; key material is never printed)."""


@keys.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@pass_state
def keys_show(state: CliState, as_json: bool) -> None:
    """Print the fingerprints of the master key and its derived keys.

    Example: resolver keys show --json"""
    found = state.home().keyring().fingerprints()
    if as_json:
        print_json({"fingerprints": found})
        return
    for name, value in found.items():
        click.echo(f"{name:<8} {value}")
