"""The Destination protocol and its declared capabilities: the planner, the executor and
the rules read only these, so adding a platform is a folder beside `tiktok/` and a line in
the registry. Platform errors are translated into distributor.errors at the boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import polars as pl

Action = Literal["add", "delete"]

# Role labels a destination's check_access returns.
ROLE_MANAGER = "Admin or Operator"  # may manage audiences: confirmed by a create or upload
ROLE_UNVERIFIED = "unverified"  # not refused by the probe, not yet confirmed by use

# The identifier columns of a plan: destination-neutral SHA-256 match keys (a destination
# names them its own way on the wire, e.g. TikTok's EMAIL_SHA256).
ID_COLUMNS: tuple[str, ...] = ("email_sha256", "phone_sha256", "idfa_sha256", "aaid_sha256")


@dataclass(frozen=True)
class Capabilities:
    """What a destination accepts; the planner, executor and rules read only this."""

    max_batch: int = 10_000
    requests_per_second: int = 50
    requests_per_minute: int = 3_000
    max_audiences: int = 400
    max_name_length: int = 128
    id_columns: tuple[str, ...] = ID_COLUMNS


@dataclass(frozen=True)
class AudienceInfo:
    audience_id: str
    name: str
    cover_num: int = 0


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
        self, action: Action, audience_id: str, id_columns: Sequence[str], ids: pl.DataFrame
    ) -> None:
        """Add or delete users: column i of `ids` holds the ids of plan column
        `id_columns[i]`, row-aligned (lowercase hex); null marks a missing id."""
        ...

    async def aclose(self) -> None: ...
