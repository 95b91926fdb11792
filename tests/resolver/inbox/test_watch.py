"""When an inbox file is complete: renamed into place (from a .part, or by inode), marked
with .done, or still for `inbox.stable_seconds`."""

from __future__ import annotations

import os
import time

import pytest

from resolver.home import Home
from resolver.inbox.service import Service
from tests.resolver.inbox.support import csv_text, people, run_once


def test_a_part_file_renamed_into_place_is_taken_at_once(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "3600")  # never stable in a test
    home = Home.open(acme.root)
    part = home.inbox / "acme" / "upload.csv.part"
    part.write_text(csv_text(people(0, 5)))
    time.sleep(0.05)  # the rename's status change comes after the last write
    part.rename(home.inbox / "acme" / "upload.csv")
    assert run_once(home) == {"purged": 1}


def test_an_inode_seen_as_a_part_file_is_complete_under_its_new_name(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "3600")
    home = Home.open(acme.root)
    service = Service(home)
    try:
        part = home.inbox / "acme" / "upload.csv.part"
        part.write_text(csv_text(people(0, 5)))
        assert service.run(once=True).counts() == {}  # seen as a .part: left alone
        final = home.inbox / "acme" / "upload.csv"
        part.rename(final)
        later = time.time_ns() + 10**12  # an mtime after the rename: only the inode tells
        os.utime(final, ns=(later, later))
        assert service.run(once=True).counts() == {"purged": 1}
    finally:
        service.close()


def test_a_file_written_in_place_waits_until_stable(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "3600")
    home = Home.open(acme.root)
    (home.inbox / "acme" / "growing.csv").write_text(csv_text(people(0, 5)))
    service = Service(home)
    try:
        assert not service.inbox.ready()  # not renamed, not marked, not yet stable
        assert service.inbox.waiting == 1
    finally:
        service.close()
