"""Ad accounts: obtain a token (from an environment variable, or by the OAuth code
exchange), check its role on the advertiser, and store it sealed in the ledger. A token is
never taken from argv and never shown whole (`mask_token`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from distributor.destinations.base import ROLE_MANAGER, ROLE_UNVERIFIED
from distributor.errors import AuthError, DestinationError, RuleError
from distributor.rules import check_account_name, check_advertiser_id, mask_token
from distributor.workspace import Workspace

NEEDED_ROLE = ROLE_MANAGER
SECRET_ENV = "TESSERA_TIKTOK__APP_SECRET"  # noqa: S105 (a variable name)


@dataclass(frozen=True)
class Credentials:
    """Where a token comes from: exactly one of an environment variable or an auth code."""

    token_env: str | None = None
    auth_code: str | None = None

    def __post_init__(self) -> None:
        if (self.token_env is None) == (self.auth_code is None):
            raise RuleError("give exactly one of --token-env VAR or --auth-code CODE")


VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def secret_shaped(text: str) -> bool:
    """Looks like a token rather than a variable name: long hex, or long with no `_`."""
    return bool(re.fullmatch(r"[0-9A-Fa-f]{16,}", text)) or (len(text) >= 24 and "_" not in text)


def _shown(variable: str) -> str:
    """How to name a --token-env value in a message without echoing a pasted token."""
    if VARIABLE.fullmatch(variable) and not secret_shaped(variable):
        return f"environment variable {variable}"
    return (
        "the --token-env value (not shown: it is not a variable name, or looks like a token;"
        " give the NAME of an environment variable that holds the token)"
    )


async def obtain_token(ws: Workspace, credentials: Credentials) -> str:
    if credentials.token_env is not None:
        token = os.environ.get(credentials.token_env, "").strip()
        if not token:
            raise RuleError(f"{_shown(credentials.token_env)} is empty or unset")
        return token
    app_id = ws.settings.tiktok.app_id
    secret = ws.settings.secret("tiktok__app_secret")
    if not app_id or secret is None:
        raise RuleError(
            f"--auth-code needs the app id ([tiktok] app_id or TESSERA_TIKTOK__APP_ID) and"
            f" the app secret ({SECRET_ENV})"
        )
    api = ws.tiktok_api()
    try:
        return await api.exchange_auth_code(app_id, secret.reveal(), credentials.auth_code or "")
    except DestinationError as exc:
        raise RuleError(f"the auth code exchange failed: {exc}") from None
    finally:
        await api.aclose()


async def verify(ws: Workspace, platform: str, advertiser_id: str, token: str) -> str:
    """The token's role label on the advertiser; RuleError when it may not manage audiences."""
    destination = ws.connect(platform, advertiser_id, token)
    try:
        return await destination.check_access()
    except AuthError as exc:
        if exc.code == 40001:
            raise RuleError(
                f"the token has no {NEEDED_ROLE} role on advertiser {advertiser_id} (an"
                f" Analyst may only read): ask an admin of the ad account to grant the"
                f" {NEEDED_ROLE} role, then authorize again"
            ) from None
        raise RuleError(f"the token was refused: {exc}") from None
    except DestinationError as exc:
        raise RuleError(f"could not validate the token: {exc}") from None
    finally:
        await destination.aclose()


async def add_account(
    ws: Workspace, platform: str, advertiser_id: str, name: str, credentials: Credentials
) -> str:
    """Add an account, or re-authorize one (same name and advertiser ID); a summary line."""
    check_advertiser_id(advertiser_id)
    accounts = ws.ledger.accounts
    existing = accounts.get(name)
    if existing is None or existing.advertiser_id != advertiser_id:
        check_account_name(name, [a.name for a in accounts.all()])
    token = await obtain_token(ws, credentials)
    role = await verify(ws, platform, advertiser_id, token)
    if existing is None:
        accounts.add(name, platform, advertiser_id, token, role)
        verb = "added"
    else:
        accounts.update_token(name, token, role)
        verb = "re-authorized"
    masked = mask_token(token)
    shown = (
        f"{role} (the first distribution confirms {NEEDED_ROLE})"
        if role == ROLE_UNVERIFIED
        else role
    )
    return f"{verb} account {name}: advertiser {advertiser_id}, role {shown}, token {masked}"


@dataclass(frozen=True)
class Checked:
    """An account's check: whether its token still works, with its role or why not."""

    account: str
    ok: bool
    role: str | None = None
    error: str | None = None

    @property
    def line(self) -> str:
        if self.ok:
            return f"{self.account}: ok ({self.role})"
        return f"{self.account}: FAILED: {self.error}"


async def check_accounts(ws: Workspace, name: str | None) -> list[Checked]:
    """Per account (or the one named), whether its token still works. RuleError when
    there is no such account (or none at all)."""
    chosen = [a for a in ws.ledger.accounts.all() if name is None or a.name == name]
    if not chosen:
        raise RuleError(f"no account named {name!r}" if name else "no accounts")
    results = []
    for account in chosen:
        token = ws.ledger.accounts.token(account.name)
        try:
            role = await verify(ws, account.platform, account.advertiser_id, token)
        except RuleError as exc:
            results.append(Checked(account.name, False, error=str(exc)))
            continue
        if account.role == ROLE_MANAGER:
            role = ROLE_MANAGER  # a probe cannot confirm what use already has
        ws.ledger.accounts.touch(account.name, role)
        results.append(Checked(account.name, True, role=role))
    return results
