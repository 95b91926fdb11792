"""Named crash points for the crash tests: `serve` kills itself with SIGKILL at the point a
test names (TESSERA_TESTING=1 and TESSERA_CRASH_AT=<name>, and with TESSERA_CRASH_FILE
only while handling the file of that name); a no-op otherwise."""

from __future__ import annotations

import os
import signal

# In the order a file passes them: the claim's steps, then the file's states.
POINTS = (
    "claim_recorded",  # the claim is committed; nothing moved yet
    "claim_workdir",  # work/<partner>/<id>/ made
    "claim_sidecar",  # X.toml moved into it
    "claim_file",  # X moved into it
    "after_claim",  # X.done removed: the claim is complete
    "graph_staged",  # the file's graph generation is staged (pending), nothing written
    "mid_processing",
    "after_outputs",
    "mid_commit",
    "before_purge",
)


def crash_point(name: str, file: str | None = None) -> None:
    """Kill the process here when a crash test asks for it."""
    if os.environ.get("TESSERA_TESTING") != "1" or os.environ.get("TESSERA_CRASH_AT") != name:
        return
    wanted = os.environ.get("TESSERA_CRASH_FILE")
    if wanted is None or wanted == file:
        os.kill(os.getpid(), signal.SIGKILL)
