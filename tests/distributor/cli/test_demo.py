"""`distributor demo`, the README's first command, end to end in a subprocess: the
emulator as a real server, a partner's files through `serve`, an account by OAuth,
distribute, a refresh, sync with deletes first, and the audience equal to the segment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    home = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "distributor", "demo", "--rows", "3000", "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "holds exactly the segment's email keys: True" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    status = subprocess.run(
        [sys.executable, "-m", "resolver", "--home", str(home), "status", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert json.loads(status.stdout)["files"] == {"purged": 2}
    for folder in ("inbox/demo-partner", "outbox/demo-partner", "store", "state"):
        assert (home / folder).stat().st_mode & 0o077 == 0, folder
