"""Files in an inbox folder of no registered partner are reported, not ignored silently."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.support import script


def test_an_unregistered_partner_folder_is_in_status_and_logged_once(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert script("resolver", "init", "--home", str(home), cwd=tmp_path).code == 0
    assert (
        script("resolver", "partners", "add", "acme", "--home", str(home), cwd=tmp_path).code == 0
    )
    ghost = home / "inbox" / "ghost"
    ghost.mkdir(mode=0o700)
    (ghost / "people.csv").write_text("email\na@b.com\n")
    env = {"TESSERA_INBOX__STABLE_SECONDS": "0"}
    serve = script("resolver", "serve", "--once", "--home", str(home), cwd=tmp_path, env=env)
    assert serve.code == 0, serve
    log = (home / "logs" / "serve.log").read_text()
    assert log.count("inbox/ghost/ is no registered partner's: its 1 file(s) are not read") == 1
    assert "a@b.com" not in log
    assert (ghost / "people.csv").exists()  # left alone
    status = script("resolver", "status", "--home", str(home), cwd=tmp_path)
    assert "ghost" in status.out
    assert "no registered partner" in status.out
    as_json = script("resolver", "status", "--json", "--home", str(home), cwd=tmp_path)
    assert json.loads(as_json.out)["unregistered"] == [{"folder": "ghost", "files": 1}]
