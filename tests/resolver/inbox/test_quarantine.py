"""Quarantined files: kept with their sidecar, retried back into the inbox (a new file),
purged, expired after inbox.quarantine_days; a crash between a state change and its moves
is finished at the next start."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from resolver.errors import QuarantineError
from resolver.home import Home
from resolver.inbox import quarantine as q
from resolver.segments.catalog import Segments
from resolver.state.control import DISCARDED, PURGED, QUARANTINED, RETRIED, Control
from tests.resolver.inbox.support import csv_text, people, run_once

SIDECAR = 'segment = "Big spenders"\n'


def _too_large(acme: Home, monkeypatch: pytest.MonkeyPatch) -> tuple[Home, int]:
    """A file with a sidecar, quarantined because it is over the size limit."""
    folder = acme.inbox / "acme"
    (folder / "spend.csv.toml").write_text(SIDECAR)
    (folder / "spend.csv").write_text(csv_text(people(0, 50)))
    monkeypatch.setenv("TESSERA_INBOX__MAX_FILE_BYTES", "100")
    home = Home.open(acme.root)
    assert run_once(home) == {QUARANTINED: 1}
    with Control(home.control_db) as control:
        (rec,) = control.files(QUARANTINED)
    return home, rec.id


def _state(home: Home, file_id: int) -> str:
    with Control(home.control_db) as control:
        return control.file(file_id).state


def test_a_quarantined_file_keeps_its_sidecar(acme: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    names = sorted(p.name for p in (home.quarantine / "acme").iterdir())
    assert names == [f"{file_id}-spend.csv", f"{file_id}-spend.csv.error.json",
                     f"{file_id}-spend.csv.toml"]  # fmt: skip
    assert (home.quarantine / "acme" / f"{file_id}-spend.csv.toml").read_text() == SIDECAR


def test_retry_after_the_cause_is_fixed_takes_the_file_as_new(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    monkeypatch.delenv("TESSERA_INBOX__MAX_FILE_BYTES")  # the operator raises the limit
    home = Home.open(acme.root)
    with Control(home.control_db) as control:
        target = q.retry(home, control, file_id)
        assert target == home.inbox / "acme" / "spend.csv"
        with pytest.raises(QuarantineError, match="is not quarantined"):
            q.retry(home, control, file_id)
    assert list((home.quarantine / "acme").iterdir()) == []
    assert run_once(home) == {PURGED: 1}
    assert _state(home, file_id) == RETRIED
    with Segments(home) as segments:
        assert segments.get("Big spenders").members == 50  # the sidecar came back with it
    with Control(home.control_db) as control:
        assert [r.state for r in control.files()] == [PURGED, RETRIED]


def test_retry_refuses_when_the_name_is_taken_in_the_inbox(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    (home.inbox / "acme" / "spend.csv.part").write_text("uploading")
    os.replace(home.inbox / "acme" / "spend.csv.part", home.inbox / "acme" / "spend.csv")
    with Control(home.control_db) as control, pytest.raises(QuarantineError, match="in the inbox"):
        q.retry(home, control, file_id)
    assert _state(home, file_id) == QUARANTINED
    assert (home.quarantine / "acme" / f"{file_id}-spend.csv").exists()


def test_purge_deletes_the_files_and_keeps_the_record(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    with Control(home.control_db) as control:
        with pytest.raises(QuarantineError):
            q.purge(home, control, [file_id, file_id + 100])  # an unknown id: nothing done
        assert control.file(file_id).state == QUARANTINED
        assert [r.id for r in q.purge(home, control, [file_id])] == [file_id]
        assert control.file(file_id).state == DISCARDED
        assert control.file(file_id).error is not None  # why it was quarantined stays
    assert list((home.quarantine / "acme").iterdir()) == []


def test_quarantined_files_expire(acme: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    with Control(home.control_db) as control:
        assert q.expire(home, control, days=1) == 0
        assert q.expire(home, control, days=1, now=time.time() + 2 * 86400) == 1
        assert q.expire(home, control, days=0, now=time.time() + 9e9) == 0
    assert _state(home, file_id) == DISCARDED
    assert list((home.quarantine / "acme").iterdir()) == []


def test_serve_expires_at_start(acme: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    with Control(home.control_db) as control:
        control.database.write("UPDATE files SET updated = updated - 40 * 86400")
    assert run_once(home) == {}
    assert _state(home, file_id) == DISCARDED


def test_a_retry_a_crash_cut_short_is_finished_at_the_next_start(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, file_id = _too_large(acme, monkeypatch)
    monkeypatch.delenv("TESSERA_INBOX__MAX_FILE_BYTES")
    home = Home.open(acme.root)
    with Control(home.control_db) as control:
        assert control.move(file_id, QUARANTINED, RETRIED)  # then killed, before any move
    assert (home.quarantine / "acme" / f"{file_id}-spend.csv").exists()
    assert run_once(home) == {PURGED: 1}  # recovery sent it back, the loop took it
    assert list((home.quarantine / "acme").iterdir()) == []


def test_a_refused_link_cannot_be_retried(acme: Home, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.csv").write_text("email\na@b.com\n")
    os.symlink(tmp_path / "elsewhere.csv", acme.inbox / "acme" / "link.csv")
    assert run_once(acme) == {QUARANTINED: 1}
    with Control(acme.control_db) as control:
        (rec,) = control.files(QUARANTINED)
        with pytest.raises(QuarantineError, match="no regular file in quarantine"):
            q.retry(acme, control, rec.id)
