"""`resolver`: files in, keyed pseudonymous IDs and segment memberships out.

One module per command group (home.py: init, keys; files.py: hash, resolve, demo;
inbox.py: partners, serve, status; quarantine.py; graph.py: graph, forget); rendering
lives apart in render.py. Errors the resolver raises on purpose (resolver.errors) and bad
settings end as one line and exit status 1, never a traceback.
"""

from __future__ import annotations

from typing import ClassVar

import click

from config import SettingsError
from config.cli import CleanErrors, home_anywhere, home_option
from resolver.cli import files, graph, home, inbox, quarantine
from resolver.cli.state import CliState
from resolver.errors import ResolverError


class _Group(CleanErrors):
    errors: ClassVar[tuple[type[Exception], ...]] = (ResolverError, SettingsError)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@home_option
@click.version_option(package_name="tessera")
@click.pass_context
def main(ctx: click.Context, home_arg: str | None) -> None:
    """Resolve partner identifier files into keyed pseudonymous person IDs."""
    ctx.obj = CliState(home_arg)


for module in (home, files, inbox, quarantine, graph):
    module.register(main)
home_anywhere(main)

__all__ = ["main"]
