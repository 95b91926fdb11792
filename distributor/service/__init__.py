"""`distributor serve`: the whole job in one long-running process.

serve.py runs the resolver's inbox service (`resolver.Service`, on a thread) and the sync
loop (loop.py) side by side, and stops both cleanly on SIGTERM or Ctrl-C.
"""

from distributor.service.loop import Outcome, SyncLoop
from distributor.service.serve import Serve, ServeSummary

__all__ = ["Outcome", "Serve", "ServeSummary", "SyncLoop"]
