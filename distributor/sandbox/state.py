"""State of the TikTok emulator: advertisers, tokens and roles, audiences and their
members (kept per identifier), a seeded synthetic user base, and persistence.

Persisted as one JSON document written atomically (temp file, fsync, rename) on shutdown
and, when dirty, every few seconds. `Sandbox` bundles a running emulator's state, users,
rate limiter, faults and request log.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from distributor.sandbox.faults import Faults
from distributor.sandbox.ratelimit import TokenLimiter
from resolver import canonical_identifiers, write_atomic

ID_TYPES = ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256", "IDFA_MD5", "AAID_MD5")
ROLES = ("ADMIN", "OPERATOR", "ANALYST")
MANAGE_ROLES = frozenset({"ADMIN", "OPERATOR"})
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def now_text() -> str:
    return time.strftime(TIME_FORMAT, time.gmtime())


@dataclass
class Audience:
    audience_id: str
    advertiser_id: str
    name: str
    create_time: str
    members: dict[str, set[str]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "audience_id": self.audience_id,
            "advertiser_id": self.advertiser_id,
            "name": self.name,
            "create_time": self.create_time,
            "history": self.history,
            "members": {t: sorted(ids) for t, ids in self.members.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            data["audience_id"],
            data["advertiser_id"],
            data["name"],
            data["create_time"],
            {t: set(ids) for t, ids in data["members"].items()},
            data["history"],
        )


@dataclass
class Token:
    roles: dict[str, str]  # advertiser_id -> role
    revoked: bool = False


class UserBase:
    """Synthetic TikTok users: person i of resolver.sample's generator, seen by TikTok as
    SHA-256 of email (trimmed, lowercased, no +tag), of phone digits with country code,
    and of the lowercase MAID (as IDFA and AAID). Files made with `write_sample(seed=S)`
    therefore match users 0..size-1 of a sandbox started with `--seed S`. `registered`
    is the share of users TikTok knows by their email, phone and device (each drawn per
    user from the seed): with less than all, an audience that holds more of a person's
    identifiers matches more people, as on TikTok."""

    def __init__(
        self, size: int, seed: int, registered: tuple[float, float, float] = (1.0, 1.0, 1.0)
    ) -> None:
        self.size = size
        canon = canonical_identifiers(np.arange(size, dtype=np.int64), seed)
        hashed = canon.select(
            pl.col("email").chash.sha2_256().alias("email"),  # type: ignore[attr-defined]
            pl.col("phone").str.strip_prefix("+").chash.sha2_256().alias("phone"),  # type: ignore[attr-defined]
            pl.col("maid").chash.sha2_256().alias("maid"),  # type: ignore[attr-defined]
        )
        draws = np.random.default_rng(seed).random((size, 3)) < np.asarray(registered)
        index = np.arange(size)
        self.by_type: dict[str, dict[str, int]] = {}
        for column, share, types in zip(
            ("email", "phone", "maid"),
            draws.T,
            (("EMAIL_SHA256",), ("PHONE_SHA256",), ("IDFA_SHA256", "AAID_SHA256")),
            strict=True,
        ):
            known = dict(
                zip(hashed[column].filter(share).to_list(), index[share].tolist(), strict=True)
            )
            for id_type in types:
                self.by_type[id_type] = known

    def matched(self, audience: Audience) -> int:
        users: set[int] = set()
        for id_type, ids in audience.members.items():
            table = self.by_type.get(id_type)
            if table:
                users.update(table[i] for i in ids if i in table)
        return len(users)


class SandboxState:
    """Everything the emulator knows. Mutations set `dirty` for the persister."""

    def __init__(self, seed: int, path: Path | None = None, advertisers: int = 3) -> None:
        self.path = path
        self.dirty = False
        self.rng = random.Random(seed)
        self.seed = seed
        self.app_id = str(self.rng.randrange(10**18, 10**19))
        self.app_secret = "".join(self.rng.choice("0123456789abcdef") for _ in range(40))
        self.advertisers: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.auth_codes: dict[str, tuple[list[str], str, float]] = {}
        self.audiences: dict[str, Audience] = {}
        if path is not None and path.exists():
            self._load(path)
        else:
            self._seed(advertisers)

    def _seed(self, count: int) -> None:
        for n in range(count):
            advertiser = str(self.rng.randrange(7 * 10**18, 8 * 10**18))
            self.advertisers[advertiser] = f"Sandbox Advertiser {n + 1}"
            for role in ROLES:
                token = "".join(self.rng.choice("0123456789abcdef") for _ in range(40))
                self.tokens[token] = Token({advertiser: role})

    def seeded_tokens(self, advertiser_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for token, entry in self.tokens.items():
            if not entry.revoked and list(entry.roles) == [advertiser_id]:
                found.setdefault(entry.roles[advertiser_id].lower(), token)
        return found

    # -- tokens -----------------------------------------------------------------

    def mint_auth_code(self, advertiser_ids: list[str], role: str) -> str:
        code = secrets.token_hex(16)
        self.auth_codes[code] = (advertiser_ids, role, time.time() + 600)
        return code

    def exchange(self, code: str) -> tuple[str, list[str]] | None:
        entry = self.auth_codes.pop(code, None)
        if entry is None or entry[2] < time.time():
            return None
        advertisers, role, _ = entry
        token = secrets.token_hex(20)
        self.tokens[token] = Token(dict.fromkeys(advertisers, role))
        self.dirty = True
        return token, advertisers

    def new_audience_id(self) -> str:
        while True:
            candidate = str(self.rng.randrange(10**16, 10**17))
            if candidate not in self.audiences:
                return candidate

    # -- persistence --------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "advertisers": self.advertisers,
            "tokens": {t: {"roles": v.roles, "revoked": v.revoked} for t, v in self.tokens.items()},
            "audiences": [a.to_json() for a in self.audiences.values()],
        }

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.app_id, self.app_secret = data["app_id"], data["app_secret"]
        self.advertisers = data["advertisers"]
        self.tokens = {t: Token(v["roles"], v["revoked"]) for t, v in data["tokens"].items()}
        self.audiences = {a["audience_id"]: Audience.from_json(a) for a in data["audiences"]}

    def save(self) -> None:
        if self.path is None:
            return
        write_atomic(self.path, json.dumps(self.to_json()).encode("utf-8"))
        self.dirty = False


@dataclass
class Sandbox:
    state: SandboxState
    users: UserBase
    limiter: TokenLimiter
    faults: Faults = field(default_factory=Faults)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200_000))
    rng: random.Random = field(default_factory=random.Random)
    counter: int = 0
    # Inferred, off by default: store names of 71-128 characters as 67 + "..." (a note in
    # Segment's TikTok destination; TikTok does not document it).
    truncate_names: bool = False

    def request_id(self) -> str:
        self.counter += 1
        return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + f"{self.counter:09X}"


@dataclass(frozen=True)
class SandboxOptions:
    """How to start an emulator (the `[sandbox]` settings and `distributor sandbox` flags)."""

    seed: int = 7
    state_file: Path | None = None
    user_base_size: int = 200_000
    requests_per_second: int = 50
    requests_per_minute: int = 3_000
    truncate_names: bool = False
    registered: tuple[float, float, float] = (1.0, 1.0, 1.0)  # see UserBase


def make_sandbox(options: SandboxOptions, faults: Faults | None = None) -> Sandbox:
    state = SandboxState(options.seed, options.state_file)
    return Sandbox(
        state=state,
        users=UserBase(options.user_base_size, state.seed, options.registered),
        limiter=TokenLimiter(options.requests_per_second, options.requests_per_minute),
        faults=faults or Faults(),
        truncate_names=options.truncate_names,
    )
