"""`distributor`: ad accounts, segments, distribution and record sync; the TikTok sandbox.

One module per command group (accounts.py, segments.py, distribute.py: distribute, sync,
status; history.py: runs; pause.py: pause, resume; serve.py: serve (the service);
undo.py: undistribute; sandbox.py;
demo.py); rendering lives apart in render.py.
Errors raised on purpose (distributor.errors, resolver.ResolverError) and bad settings end
as one line, never a traceback, with the exit status distributor/errors.py documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import click

from config import SettingsError
from config.cli import CleanErrors, home_anywhere, home_option
from distributor.cli import (
    accounts,
    demo,
    distribute,
    history,
    pause,
    sandbox,
    segments,
    serve,
    undo,
)
from distributor.cli.render import EXIT_CODES
from distributor.cli.state import CliState
from distributor.errors import DistributorError
from resolver import ResolverError


class _Group(CleanErrors):
    errors: ClassVar[tuple[type[Exception], ...]] = (DistributorError, ResolverError, SettingsError)
    exit_codes: ClassVar[Mapping[type[Exception], int]] = EXIT_CODES


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@home_option
@click.version_option(package_name="tessera")
@click.pass_context
def main(ctx: click.Context, home_arg: str | None) -> None:
    """Send segments to ad accounts and keep them in sync."""
    ctx.ensure_object(CliState).home_arg = home_arg


for module in (accounts, segments, distribute, history, pause, serve, undo, sandbox, demo):
    module.register(main)
home_anywhere(main)

__all__ = ["main"]
