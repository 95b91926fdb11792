"""Ad accounts in the ledger: names, platforms, advertiser IDs and tokens. A token is kept
sealed (AES-256-GCM under a key derived from the master key, bound to its account's name)
and only ever opened to make a call."""

from __future__ import annotations

import time
from dataclasses import dataclass

from resolver import Database, Sealer


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    platform: str
    advertiser_id: str
    role: str
    created_at: float
    checked_at: float | None


def _label(name: str) -> str:
    return f"account:{name}"


class Accounts:
    """The `accounts` table."""

    def __init__(self, database: Database, sealer: Sealer) -> None:
        self.database = database
        self._sealer = sealer

    def add(self, name: str, platform: str, advertiser_id: str, token: str, role: str) -> None:
        now = time.time()
        self.database.write(
            "INSERT INTO accounts (name, platform, advertiser_id, token, role, created_at,"
            " checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, platform, advertiser_id, self._seal(name, token), role, now, now),
        )

    def update_token(self, name: str, token: str, role: str) -> None:
        self.database.write(
            "UPDATE accounts SET token = ?, role = ?, checked_at = ? WHERE name = ?",
            (self._seal(name, token), role, time.time(), name),
        )

    def token(self, name: str) -> str:
        row = self.database.row("SELECT token FROM accounts WHERE name = ?", (name,))
        if row is None:
            raise KeyError(name)
        return self._sealer.open(bytes(row["token"]), _label(name)).decode()

    def all(self) -> list[Account]:
        rows = self.database.rows(
            "SELECT id, name, platform, advertiser_id, role, created_at, checked_at"
            " FROM accounts ORDER BY name"
        )
        return [Account(**dict(r)) for r in rows]

    def get(self, name: str) -> Account | None:
        return next((a for a in self.all() if a.name == name), None)

    def names(self) -> dict[int, str]:
        return {a.id: a.name for a in self.all()}

    def remove(self, name: str) -> bool:
        return self.database.write("DELETE FROM accounts WHERE name = ?", (name,)).rowcount > 0

    def touch(self, name: str, role: str) -> None:
        self.database.write(
            "UPDATE accounts SET role = ?, checked_at = ? WHERE name = ?", (role, time.time(), name)
        )

    def _seal(self, name: str, token: str) -> bytes:
        return self._sealer.seal(token.encode(), _label(name))
