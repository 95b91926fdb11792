"""The `resolver` and `distributor` console scripts. This module and the `config`
package imported before it use nothing but the standard library, so Ctrl-C is
"interrupted" and status 130 from the first moment the scripts run: during the imports
(click and Polars alone take a while), in a command (config.cli.CleanErrors), and in
clean-up code it lands in (a generator closing, say), where Python would print
"Exception ignored ... KeyboardInterrupt". Only the interpreter's own start comes first.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, NoReturn

INTERRUPTED = 130


def resolver_main() -> None:
    _run("resolver.cli")


def distributor_main() -> None:
    _run("distributor.cli")


def _run(module: str) -> None:
    sys.unraisablehook = _quiet_interrupts
    try:
        command = importlib.import_module(module).main
    except KeyboardInterrupt:
        _interrupted()
    command()


def _quiet_interrupts(unraisable: Any) -> None:
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _interrupted() -> NoReturn:
    sys.stderr.write("interrupted\n")
    raise SystemExit(INTERRUPTED)
