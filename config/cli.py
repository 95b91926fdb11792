"""What both command lines share: the `--home` option and a group that reports the
errors a package raises on purpose as one line (exit status 1), never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import click

from config.sections import SettingsError

F = TypeVar("F", bound=Callable[..., Any])


class CleanErrors(click.Group):
    """A group whose subclasses name the errors to report cleanly (`errors`)."""

    errors: ClassVar[tuple[type[Exception], ...]] = (SettingsError,)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except self.errors as exc:
            raise click.ClickException(str(exc)) from None


def home_option(func: F) -> F:
    """`--home DIR` (env TESSERA_HOME), passed to the command as `home_arg`."""
    option = click.option(
        "--home",
        "home_arg",
        envvar="TESSERA_HOME",
        default=None,
        metavar="DIR",
        help="Tessera home folder [env TESSERA_HOME; default ./.tessera].",
    )
    return option(func)
