"""What every `resolver` command gets: the home, opened lazily (so `--help` needs none)."""

from __future__ import annotations

import click

from resolver.home import Home


class CliState:
    def __init__(self, home_arg: str | None) -> None:
        self.home_arg = home_arg

    def home(self, overrides: dict[str, object] | None = None) -> Home:
        return Home.open(self.home_arg, overrides)


pass_state = click.make_pass_decorator(CliState)
