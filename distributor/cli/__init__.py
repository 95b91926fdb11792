"""`distributor`: ad accounts, segments, distribution and record sync; the TikTok sandbox.

One module per command group (accounts.py, segments.py, distribute.py: distribute, sync,
status; sandbox.py; demo.py); rendering lives apart in render.py. Errors raised on purpose
(distributor.errors, resolver.ResolverError) and bad settings end as one line and exit
status 1, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from config import SettingsError
from distributor.cli import accounts, demo, distribute, sandbox, segments
from distributor.cli.state import CliState
from distributor.errors import DistributorError
from resolver import ResolverError


class _Group(click.Group):
    """Reports the distributor's and the resolver's own errors as one-line failures."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (DistributorError, ResolverError, SettingsError) as exc:
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
    """Send segments to ad accounts and keep them in sync."""
    ctx.ensure_object(CliState).home_arg = home_arg


for module in (accounts, segments, distribute, sandbox, demo):
    module.register(main)

__all__ = ["main"]
