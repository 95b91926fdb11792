"""Tessera distributor: segments out to ad platforms, TikTok first.

The entry point is a Workspace (a home with its ledger): `distribute` sends a segment's
members to an ad account as record sync (deletes before adds), creating its audience on
first use; `sync` brings an existing distribution up to the segment. Both return a
RunReport; errors are distributor.errors.
"""

from distributor.errors import (
    AuthError,
    BadRequest,
    DestinationError,
    DistributorError,
    RuleError,
    RunStopped,
    Throttled,
    TransientError,
)
from distributor.metrics import RunReport
from distributor.run import DistributionRun
from distributor.workspace import Workspace

__all__ = [
    "AuthError",
    "BadRequest",
    "DestinationError",
    "DistributionRun",
    "DistributorError",
    "RuleError",
    "RunReport",
    "RunStopped",
    "Throttled",
    "TransientError",
    "Workspace",
]
