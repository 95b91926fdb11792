"""The Destination protocol, its declared capabilities, and the errors every destination
raises. A destination translates its platform's envelope into these errors at the
boundary, so the executor decides retries from the type alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import polars as pl

Action = Literal["add", "delete"]

# Plan columns (lower case, destination-neutral) and the TikTok id_schema names they carry.
ID_COLUMNS: dict[str, str] = {
    "email_sha256": "EMAIL_SHA256",
    "phone_sha256": "PHONE_SHA256",
    "idfa_sha256": "IDFA_SHA256",
    "aaid_sha256": "AAID_SHA256",
}


@dataclass(frozen=True)
class Capabilities:
    """What a destination accepts; the planner, executor and rules read only this."""

    max_batch: int = 10_000
    requests_per_second: int = 50
    requests_per_minute: int = 3_000
    max_audiences: int = 400
    max_name_length: int = 128
    id_types: tuple[str, ...] = ("EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "AAID_SHA256")

    @property
    def id_columns(self) -> tuple[str, ...]:
        """Plan columns whose id types this destination accepts, in plan order."""
        return tuple(c for c, t in ID_COLUMNS.items() if t in self.id_types)


@dataclass(frozen=True)
class AudienceInfo:
    audience_id: str
    name: str
    cover_num: int = 0


class DestinationError(Exception):
    """A call failed; the message names the endpoint and code, never tokens or ids."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class AuthError(DestinationError):
    """The token is invalid or revoked, or lost permission: stop the account, no retry."""


class TransientError(DestinationError):
    """Throttled, 5xx, timeout or dropped connection: retry with backoff."""

    def __init__(self, message: str, code: int | None = None, retry_after: float = 0.0) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class BadRequest(DestinationError):
    """The platform refused the request's content (TikTok 40002); retrying will not help."""


class Destination(Protocol):
    """One ad account on one platform, authenticated."""

    capabilities: Capabilities

    async def check_access(self) -> str:
        """Validate the token and the right to manage audiences; returns a role label."""
        ...

    async def create_audience(self, name: str) -> str: ...

    async def delete_audience(self, audience_id: str) -> None: ...

    async def list_audiences(self) -> list[AudienceInfo]: ...

    async def get_audience(self, audience_id: str) -> AudienceInfo: ...

    async def mapping(
        self,
        action: Action,
        audience_id: str,
        id_schema: Sequence[str],
        ids: pl.DataFrame,
    ) -> None:
        """Add or delete users: column i of `ids` holds the ids of `id_schema[i]`,
        row-aligned (lowercase hex); null marks a missing id."""
        ...

    async def aclose(self) -> None: ...


def describe_body(body: Any) -> str:
    """A short, id-free description of an error body for messages."""
    if isinstance(body, dict):
        return f"code {body.get('code')}: {str(body.get('message', ''))[:200]}"
    return "unreadable response body"
