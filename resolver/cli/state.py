"""What every `resolver` command gets: the home, opened lazily (so `--help` needs none)."""

from __future__ import annotations

import click

from resolver.home import Home


class CliState:
    def __init__(self, home_arg: str | None) -> None:
        self.home_arg = home_arg

    def home(self, overrides: dict[str, object] | None = None, *, made: bool = True) -> Home:
        """The home; `made=False` for the commands that make one (init, demo) or need
        none (hash, and resolve with TESSERA_MASTER_KEY), which read only its settings."""
        home = Home.open(self.home_arg, overrides)
        return home.existing() if made else home


pass_state = click.make_pass_decorator(CliState)
