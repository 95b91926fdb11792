"""What both command lines share: the `--home` option and a group that reports the
errors a package raises on purpose as one line with an exit status per kind (1 unless the
package says otherwise), never a traceback; Ctrl-C ends with 130."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import click

from config.sections import SettingsError

F = TypeVar("F", bound=Callable[..., Any])


class CleanErrors(click.Group):
    """A group whose subclasses name the errors to report cleanly (`errors`)."""

    errors: ClassVar[tuple[type[Exception], ...]] = (SettingsError,)
    exit_codes: ClassVar[Mapping[type[Exception], int]] = {}  # first match wins

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        except self.errors as exc:
            raise failure(str(exc), self.exit_code(exc)) from None

    def exit_code(self, exc: Exception) -> int:
        return next((code for kind, code in self.exit_codes.items() if isinstance(exc, kind)), 1)


INTERRUPTED = 130


def failure(message: str, exit_code: int = 1) -> click.ClickException:
    """A one-line failure with its exit status (click keeps the status on the class)."""
    kind = type("Failure", (click.ClickException,), {"exit_code": exit_code})
    error: click.ClickException = kind(message)
    return error


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
