"""What every `distributor` command gets: the home argument, and the transport seam (tests
pass `obj=CliState(transport=...)` to reach an in-process emulator; the command line
never sets it)."""

from __future__ import annotations

from dataclasses import dataclass

import click
import httpx

from distributor.workspace import Workspace
from resolver import Home


@dataclass
class CliState:
    home_arg: str | None = None
    transport: httpx.AsyncBaseTransport | None = None

    def workspace(self) -> Workspace:
        return Workspace(Home.open(self.home_arg).existing(), self.transport)


pass_state = click.make_pass_decorator(CliState, ensure=True)
