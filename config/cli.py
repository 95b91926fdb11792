"""What both command lines share: the `--home` option and a group that reports the
errors a package raises on purpose as one line with an exit status per kind (1 unless the
package says otherwise), never a traceback; Ctrl-C ends with 130 (config/script.py, the
console scripts, covers the imports before a command runs)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import click

from config.script import INTERRUPTED
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


def failure(message: str, exit_code: int = 1) -> click.ClickException:
    """A one-line failure with its exit status (click keeps the status on the class)."""
    kind = type("Failure", (click.ClickException,), {"exit_code": exit_code})
    error: click.ClickException = kind(message)
    return error


def home_anywhere(group: click.Group) -> None:
    """Let every command under `group` take `--home` after its name as well as before
    it (`resolver status --home X` is `resolver --home X status`). The command line's
    state object (`ctx.obj`, made by the group before a subcommand's options are read)
    must have `home_arg`."""
    for command in group.commands.values():
        if not any("--home" in param.opts for param in command.params):
            command.params.append(
                click.Option(
                    ["--home", "late_home"],
                    default=None,
                    metavar="DIR",
                    expose_value=False,
                    callback=_late_home,
                    help="Tessera home folder (the same as before the command).",
                )
            )
        if isinstance(command, click.Group):
            home_anywhere(command)


def _late_home(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    root = ctx.find_root()
    early = root.params.get("home_arg")
    given = root.get_parameter_source("home_arg") == click.core.ParameterSource.COMMANDLINE
    if given and early != value:
        raise click.UsageError("--home is given twice, with two different folders", ctx)
    ctx.obj.home_arg = value
    root.meta[_LATE] = value


_LATE = "tessera.home_after_command"


def explicit_home(ctx: click.Context) -> str | None:
    """The home given with --home on the command line (before or after the command),
    not through TESSERA_HOME."""
    root = ctx.find_root()
    late: str | None = root.meta.get(_LATE)
    if late is not None:
        return late
    if root.get_parameter_source("home_arg") == click.core.ParameterSource.COMMANDLINE:
        early: str | None = root.params.get("home_arg")
        return early
    return None


def confirm(question: str, yes: bool) -> None:
    """Go on when --yes was given or the person at the terminal says yes; else stop with
    status 1, changing nothing. Without a terminal to ask, --yes is needed."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise failure(f"{question} Pass --yes to confirm (there is no terminal to ask).")
    if not click.confirm(question, default=False, err=True):
        raise failure("nothing was changed")


def yes_option(func: F) -> F:
    """`--yes`: do what a command would ask to confirm."""
    option = click.option(
        "--yes", "-y", is_flag=True, help="Do not ask to confirm (needed without a terminal)."
    )
    return option(func)


def rows_option(what: str) -> Callable[[F], F]:
    """`--rows N` (at least 1, default 100,000) for the demos' sample files."""
    return click.option(
        "--rows",
        type=click.IntRange(min=1),
        default=100_000,
        show_default=True,
        help=f"Rows in {what}.",
    )


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
