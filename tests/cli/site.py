"""A home reaching a running emulator (a real server), driven through the installed
scripts: a partner's sample file served, an ad account added by the OAuth code exchange."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distributor.sandbox.process import SandboxProcess
from resolver import sample_frame
from tests.cli.support import Run, script, with_terminal


@dataclass
class Site:
    home: Path
    sandbox: SandboxProcess
    env: dict[str, str]

    def run(self, name: str, *args: str) -> Run:
        return script(name, *args, "--home", str(self.home), cwd=self.home.parent, env=self.env)

    def ok(self, name: str, *args: str) -> Run:
        done = self.run(name, *args)
        assert done.code == 0, done
        return done

    def on_terminal(self, name: str, *args: str) -> Run:
        """The script with a terminal (a pty) for stdin, stdout and stderr."""
        return with_terminal(name, *args, "--home", str(self.home), env=self.env)

    def audiences(self, advertiser: int = 0) -> dict[str, str]:
        """The emulator's audiences in an advertiser: name -> id."""
        listed = self.sandbox.audiences(self.sandbox.advertiser(advertiser))
        return {a["name"]: a["audience_id"] for a in listed}

    def add_account(self, name: str, advertiser: int = 0) -> None:
        advertiser_id = self.sandbox.advertiser(advertiser)
        code = self.sandbox.auth_code([advertiser_id])
        self.ok("distributor", "accounts", "add", "tiktok", "--advertiser-id", advertiser_id,
                "--name", name, "--auth-code", code)  # fmt: skip


def make_site(
    home: Path, sandbox: SandboxProcess, account: str, rows: int = 300, **env: str
) -> Site:
    """A home made, partner acme's `rows`-row sample served, `account` added."""
    made = Site(home, sandbox, {
        "TESSERA_TIKTOK__API_BASE_URL": sandbox.base_url,
        "TESSERA_TIKTOK__APP_ID": str(sandbox.info["app_id"]),
        "TESSERA_TIKTOK__APP_SECRET": str(sandbox.info["app_secret"]),
        "TESSERA_INBOX__STABLE_SECONDS": "0",
        **env,
    })  # fmt: skip
    made.ok("resolver", "init")
    made.ok("resolver", "partners", "add", "acme")
    sample_frame(rows, seed=7).write_csv(home / "inbox" / "acme" / "people.csv")
    (home / "inbox" / "acme" / "people.csv.done").write_bytes(b"")
    made.ok("resolver", "serve", "--once")
    made.add_account(account)
    return made
