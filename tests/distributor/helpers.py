"""Shared helpers for distributor tests: a home wired to an emulator, the CLI through
click's runner (reaching an in-process emulator through the CLI's transport seam), and
synthetic members."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
from click.testing import CliRunner, Result

from distributor.cli import main
from distributor.cli.state import CliState
from distributor.sandbox.handle import SandboxHandle
from distributor.workspace import Workspace


def wire(home: Path, sandbox: SandboxHandle, **distributor: float | int) -> None:
    """Point the home's config at the emulator; tweak [distributor] settings."""
    lines = [
        "[tiktok]",
        f'api_base_url = "{sandbox.base_url}"',
        f'app_id = "{sandbox.info["app_id"]}"',
        "[distributor]",
        "backoff_initial_seconds = 0.05",
        "backoff_max_seconds = 0.5",
        "throttle_initial_seconds = 0.05",
        "throttle_max_seconds = 0.5",
        *[f"{k} = {v}" for k, v in distributor.items()],
    ]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def workspace(home: Path, sandbox: SandboxHandle) -> Workspace:
    return Workspace.open(home, sandbox.transport())


def cli(
    home: Path, sandbox: SandboxHandle, *args: str, env: dict[str, str] | None = None
) -> Result:
    """`distributor --home HOME ARGS`, its platform calls going to `sandbox`."""
    state = CliState(transport=sandbox.transport())
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env, obj=state)


def accounts_add(
    home: Path,
    sandbox: SandboxHandle,
    advertiser_id: str,
    name: str,
    *,
    token: str | None = None,
    code: str | None = None,
) -> Result:
    """`distributor accounts add tiktok`: a token through $TT_TOKEN, or an auth code (with
    the emulator's app secret in its environment variable)."""
    args = ["accounts", "add", "tiktok", "--advertiser-id", advertiser_id, "--name", name]
    env: dict[str, str] = {}
    if token is not None:
        args += ["--token-env", "TT_TOKEN"]
        env["TT_TOKEN"] = token
    if code is not None:
        args += ["--auth-code", code]
        env["TESSERA_TIKTOK__APP_SECRET"] = str(sandbox.info["app_secret"])
    return cli(home, sandbox, *args, env=env)


def add_account(home: Path, sandbox: SandboxHandle, name: str = "acme", n: int = 0) -> None:
    result = accounts_add(
        home, sandbox, sandbox.advertiser(n), name, token=sandbox.token("admin", n)
    )
    assert result.exit_code == 0, result.output


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def members(ids: range | list[int], salt: str = "") -> pl.DataFrame:
    """Synthetic members: person i has an email, every second a phone, every third a MAID
    (idfa or gaid), every seventh nothing the destination accepts."""
    keys = np.asarray(list(ids), dtype=np.int64)
    rows = {
        "person_key": [int(k).to_bytes(16, "big") for k in keys],
        "email_sha256": [None if k % 7 == 6 else sha(f"e{k}{salt}") for k in keys],
        "phone_sha256": [sha(f"p{k}") if k % 2 == 0 and k % 7 != 6 else None for k in keys],
        "maid_sha256": [sha(f"m{k}") if k % 3 == 0 and k % 7 != 6 else None for k in keys],
        "maid_type": [("idfa" if k % 2 else "gaid") if k % 3 == 0 else None for k in keys],
    }
    return pl.DataFrame(
        rows,
        schema={
            "person_key": pl.Binary,
            "email_sha256": pl.Utf8,
            "phone_sha256": pl.Utf8,
            "maid_sha256": pl.Utf8,
            "maid_type": pl.Utf8,
        },
    )


def expected(df: pl.DataFrame) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for row in df.iter_rows(named=True):
        if row["email_sha256"]:
            out.setdefault("EMAIL_SHA256", set()).add(row["email_sha256"])
        if row["phone_sha256"]:
            out.setdefault("PHONE_SHA256", set()).add(row["phone_sha256"])
        if row["maid_sha256"] and row["maid_type"]:
            kind = "IDFA_SHA256" if row["maid_type"] == "idfa" else "AAID_SHA256"
            out.setdefault(kind, set()).add(row["maid_sha256"])
    return out
