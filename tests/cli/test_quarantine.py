"""`resolver quarantine` through the installed script: list with why and when it expires,
retry after fixing the file (taken at once by the next serve), purge with a confirmation."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.cli.support import Run, script, with_terminal


def _resolver(home: Path, *args: str) -> Run:
    return script("resolver", *args, "--home", str(home), cwd=home.parent)


def _quarantined(home: Path) -> list[dict[str, object]]:
    run = _resolver(home, "quarantine", "list", "--json")
    assert run.code == 0, run
    found: list[dict[str, object]] = json.loads(run.out)["quarantined"]
    return found


def _drop_bad_file(home: Path) -> int:
    assert _resolver(home, "partners", "add", "acme").code == 0
    inbox = home / "inbox" / "acme"
    (inbox / "people.csv").write_text("name,city\nAda,London\n")  # no identifier column
    (inbox / "people.csv.done").write_bytes(b"")
    assert _resolver(home, "serve", "--once").code == 0
    (found,) = _quarantined(home)
    assert set(found) == {"file_id", "partner", "file", "when", "code", "line", "column",
                          "message", "expires"}  # fmt: skip
    assert found["code"] == "no_identifier_column"
    assert found["file"] == "people.csv"
    expires = time.mktime(time.strptime(str(found["expires"]), "%Y-%m-%d %H:%M")) - time.timezone
    assert abs(expires - (time.time() + 30 * 86400)) < 300  # inbox.quarantine_days: 30
    assert isinstance(found["file_id"], int)
    return found["file_id"]


def test_retry_a_fixed_file(home: Path) -> None:
    file_id = _drop_bad_file(home)
    kept = home / "quarantine" / "acme" / f"{file_id}-people.csv"
    kept.write_text("email,city\nada@example.com,London\n")  # the operator fixes it
    run = _resolver(home, "quarantine", "retry", str(file_id))
    assert run.code == 0, run
    assert run.out.strip() == f"file {file_id} is back in inbox/acme/people.csv"
    served = _resolver(home, "serve", "--once", "--json")  # stable_seconds is 30: no wait
    assert json.loads(served.out)["files"] == {"purged": 1}, served
    assert _quarantined(home) == []
    again = _resolver(home, "quarantine", "retry", str(file_id))
    assert again.code == 1
    assert again.one_line_error == f"Error: file {file_id} is not quarantined (it is retried)"


def test_purge_asks_first(home: Path) -> None:
    file_id = _drop_bad_file(home)
    refused = _resolver(home, "quarantine", "purge", str(file_id))
    assert refused.code == 1
    assert "Pass --yes" in refused.one_line_error
    said_no = with_terminal(
        "resolver", "quarantine", "purge", "--all", "--home", str(home), answer="n"
    )
    assert "delete 1 quarantined file(s) for good. Go on? [y/N]" in said_no.out
    assert said_no.code == 1
    assert len(_quarantined(home)) == 1
    said_yes = with_terminal(
        "resolver", "quarantine", "purge", "--all", "--home", str(home), answer="y"
    )
    assert said_yes.code == 0, said_yes
    assert "deleted 1 quarantined file(s)" in said_yes.out
    assert _quarantined(home) == []
    assert list((home / "quarantine" / "acme").iterdir()) == []


def test_quarantined_files_expire_at_the_next_start(home: Path) -> None:
    file_id = _drop_bad_file(home)
    time.sleep(1.0)
    env = {"TESSERA_INBOX__QUARANTINE_DAYS": "0.00001"}  # 0.86 s
    run = script("resolver", "serve", "--once", "--home", str(home), cwd=home.parent, env=env)
    assert run.code == 0, run
    assert "deleted 1 quarantined file(s) past inbox.quarantine_days" in run.err
    assert _quarantined(home) == []
    assert list((home / "quarantine" / "acme").iterdir()) == []
    gone = _resolver(home, "quarantine", "retry", str(file_id))
    assert gone.one_line_error == f"Error: file {file_id} is not quarantined (it is discarded)"
