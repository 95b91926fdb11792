"""Account operations behind `distributor accounts`: validate, store encrypted, check."""

from __future__ import annotations

import os
import time

from distributor.destinations.base import AuthError, DestinationError
from distributor.destinations.tiktok import TikTokApi
from distributor.rules import RuleError, check_account_name, check_advertiser_id, mask_token
from distributor.service import SECRET_ENV, destination, open_home, open_ledger

NEEDED_ROLE = "Admin or Operator"


async def _token(root: str | None, token_env: str | None, auth_code: str | None) -> str:
    home = open_home(root)
    if token_env is not None:
        token = os.environ.get(token_env, "").strip()
        if not token:
            raise RuleError(f"environment variable {token_env} is empty or unset")
        return token
    app_id = str(home.settings.get("tiktok.app_id"))
    secret = home.settings.secret("tiktok__app_secret")
    if not app_id or secret is None:
        raise RuleError(
            f"--auth-code needs the app id ([tiktok] app_id or TESSERA_TIKTOK__APP_ID) and"
            f" the app secret ({SECRET_ENV})"
        )
    api = TikTokApi(str(home.settings.get("tiktok.api_base_url")))
    try:
        return await api.exchange_auth_code(app_id, secret.reveal(), auth_code or "")
    except DestinationError as exc:
        raise RuleError(f"the auth code exchange failed: {exc}") from None
    finally:
        await api.aclose()


async def verify(root: str | None, advertiser_id: str, token: str) -> str:
    """The token's role label on the advertiser; RuleError when it may not manage audiences."""
    home = open_home(root)
    dest = destination(home.settings, advertiser_id, token)
    try:
        return await dest.check_access()
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
        await dest.aclose()


async def add_account(
    root: str | None,
    platform: str,
    advertiser_id: str,
    name: str,
    token_env: str | None,
    auth_code: str | None,
) -> str:
    check_advertiser_id(advertiser_id)
    home = open_home(root)
    ledger = open_ledger(home)
    try:
        existing = ledger.account(name)
        if existing is None or existing.advertiser_id != advertiser_id:
            check_account_name(name, [a.name for a in ledger.accounts()])
        token = await _token(root, token_env, auth_code)
        role = await verify(root, advertiser_id, token)
        if existing is None:
            ledger.add_account(name, platform, advertiser_id, token, role)
            verb = "added"
        else:
            ledger.update_token(name, token, role)
            verb = "re-authorized"
        masked = mask_token(token)
        return f"{verb} account {name}: advertiser {advertiser_id}, role {role}, token {masked}"
    finally:
        ledger.close()


def account_rows(root: str | None) -> list[list[str]]:
    ledger = open_ledger(open_home(root))
    try:
        return [
            [
                a.name,
                a.platform,
                a.advertiser_id,
                a.role,
                mask_token(ledger.token(a.name)),
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(a.checked_at or a.created_at)),
            ]
            for a in ledger.accounts()
        ]
    finally:
        ledger.close()


def remove_account(root: str | None, name: str) -> None:
    ledger = open_ledger(open_home(root))
    try:
        account = ledger.account(name)
        if account is None:
            raise RuleError(f"no account named {name!r}")
        if any(d.account_id == account.id for d in ledger.distributions()):
            raise RuleError(f"account {name!r} has distributions; it cannot be removed")
        ledger.remove_account(name)
    finally:
        ledger.close()


async def check_accounts(root: str | None, name: str | None) -> list[tuple[str, bool]]:
    ledger = open_ledger(open_home(root))
    try:
        chosen = [a for a in ledger.accounts() if name is None or a.name == name]
        if not chosen:
            return [(f"no account named {name!r}" if name else "no accounts", False)]
        results = []
        for account in chosen:
            try:
                role = await verify(root, account.advertiser_id, ledger.token(account.name))
            except RuleError as exc:
                results.append((f"{account.name}: FAILED: {exc}", False))
                continue
            ledger.touch_account(account.name, role)
            results.append((f"{account.name}: ok ({role})", True))
        return results
    finally:
        ledger.close()
