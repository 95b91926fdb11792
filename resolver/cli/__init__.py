"""`resolver`: files in, keyed pseudonymous IDs and segment memberships out.

One module per command group (home.py: init, keys; files.py: hash, resolve, demo;
inbox.py: partners, serve, status); rendering lives apart in render.py. Errors the resolver
raises on purpose (resolver.errors) and bad settings end as one line and exit status 1,
never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from config import SettingsError
from resolver.cli import files, home, inbox
from resolver.cli.state import CliState
from resolver.errors import ResolverError


class _Group(click.Group):
    """Reports the resolver's own errors as clean one-line failures."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ResolverError, SettingsError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    "home_arg",
    envvar="TESSERA_HOME",
    default=None,
    metavar="DIR",
    help="Tessera home folder [env TESSERA_HOME; default ./.tessera].",
)
@click.version_option(package_name="tessera")
@click.pass_context
def main(ctx: click.Context, home_arg: str | None) -> None:
    """Resolve partner identifier files into keyed pseudonymous person IDs."""
    ctx.obj = CliState(home_arg)


for module in (home, files, inbox):
    module.register(main)

__all__ = ["main"]
