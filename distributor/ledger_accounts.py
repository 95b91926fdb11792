"""Ad accounts in the distributor's ledger: names, platforms, advertiser IDs and tokens.
A token is stored sealed with AES-256-GCM under a key derived from the master key, bound
to its account's name, and only ever decrypted to make a call."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    platform: str
    advertiser_id: str
    role: str
    created_at: float
    checked_at: float | None


class AccountTable:
    """The `accounts` table; mixed into the Ledger, which owns the connection."""

    db: sqlite3.Connection
    _aead: AESGCM
    tx: Callable[[], AbstractContextManager[sqlite3.Connection]]  # the Ledger's transaction

    def _seal(self, name: str, token: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, token.encode(), b"account:" + name.encode())

    def add_account(
        self, name: str, platform: str, advertiser_id: str, token: str, role: str
    ) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO accounts (name, platform, advertiser_id, token, role, created_at,"
                " checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    platform,
                    advertiser_id,
                    self._seal(name, token),
                    role,
                    time.time(),
                    time.time(),
                ),
            )

    def update_token(self, name: str, token: str, role: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE accounts SET token = ?, role = ?, checked_at = ? WHERE name = ?",
                (self._seal(name, token), role, time.time(), name),
            )

    def token(self, name: str) -> str:
        row = self.db.execute("SELECT token FROM accounts WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyError(name)
        blob = bytes(row["token"])
        return self._aead.decrypt(blob[:12], blob[12:], b"account:" + name.encode()).decode()

    def accounts(self) -> list[Account]:
        rows = self.db.execute(
            "SELECT id, name, platform, advertiser_id, role, created_at, checked_at"
            " FROM accounts ORDER BY name"
        )
        return [Account(**dict(r)) for r in rows]

    def account(self, name: str) -> Account | None:
        return next((a for a in self.accounts() if a.name == name), None)

    def remove_account(self, name: str) -> bool:
        with self.tx() as db:
            return bool(db.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount > 0)

    def touch_account(self, name: str, role: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE accounts SET role = ?, checked_at = ? WHERE name = ?",
                (role, time.time(), name),
            )
