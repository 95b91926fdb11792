"""Tessera distributor: segments out to ad platforms, TikTok first.

The entry points: `distribute` and `sync` (record sync of one segment to its ad account),
with `open_home`/`open_ledger` to reach the state they use.
"""

from distributor.metrics import RunReport
from distributor.service import RunStopped, distribute, open_home, open_ledger, sync

__all__ = ["RunReport", "RunStopped", "distribute", "open_home", "open_ledger", "sync"]
