"""`resolver serve`: readiness, exactly-once ingest, duplicates, outputs, segments, opt-outs,
status, and a clean stop. Crash tests and the hostile corpus are in their own modules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
from click.testing import CliRunner

from resolver.cli import main
from resolver.errors import SegmentError
from resolver.home import Home
from resolver.inbox.status import status_data
from resolver.segments.catalog import Segments
from resolver.state.control import Control
from resolver.state.seal import Sealer
from tests.resolver.inbox.support import (
    csv_text,
    drop,
    gz,
    leftovers,
    people,
    run_once,
    serve_env,
)


def test_file_is_resolved_published_and_purged(acme: Home) -> None:
    drop(
        acme,
        "acme",
        "first.csv",
        csv_text([*people(0, 50), {"email": "=cmd()", "phone": "", "segments": "sports"}]),
    )
    assert run_once(acme) == {"purged": 1}
    resolved = acme.outbox / "acme" / "first.csv.resolved.csv"
    frame = pl.read_csv(resolved, infer_schema=False)
    assert frame.columns == ["row", "person_id", "reject_reason"]
    assert frame.height == 51
    assert frame.filter(pl.col("reject_reason").is_not_null()).height == 1
    report = json.loads((acme.outbox / "acme" / "first.csv.report.json").read_text())
    assert report["rows"] == 51
    assert report["rejected"] == 1
    assert not (acme.inbox / "acme" / "first.csv").exists()
    assert not (acme.inbox / "acme" / "first.csv.done").exists()
    assert leftovers(acme) == []
    with Segments(acme) as segments:
        assert segments.get("SPORTS").members == 50
    for path in [resolved, *acme.state.iterdir()]:
        assert path.stat().st_mode & 0o077 == 0, path


def test_part_files_wait_and_unmarked_files_wait_until_stable(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    (acme.inbox / "acme" / "upload.csv.part").write_text(csv_text(people(0, 5)))
    (acme.inbox / "acme" / ".hidden.csv").write_text(csv_text(people(0, 5)))
    assert run_once(acme) == {}
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "1")
    home = Home.open(acme.root)
    (home.inbox / "acme" / "plain.csv").write_text(csv_text(people(0, 5)))  # in place
    started = time.monotonic()
    assert run_once(home) == {"purged": 1}
    assert time.monotonic() - started >= 0.9  # waited for the file to settle
    assert (acme.inbox / "acme" / "upload.csv.part").exists()


def test_same_content_under_other_names_and_gzipped_is_a_duplicate(acme: Home) -> None:
    text = csv_text(people(0, 200, ""))
    drop(acme, "acme", "a.csv", text)
    drop(acme, "acme", "b.csv", text)
    drop(acme, "acme", "c.csv", text)
    drop(acme, "acme", "d.csv.gz", gz(text))
    assert run_once(acme) == {"purged": 1, "duplicate": 3}
    with Control(acme.control_db) as control:
        rows = control.files()
    assert sorted(r.state for r in rows) == ["duplicate"] * 3 + ["purged"]
    original = next(r.id for r in rows if r.state == "purged")
    assert {r.duplicate_of for r in rows if r.state == "duplicate"} == {original}
    assert list((acme.outbox / "acme").glob("*.resolved.csv")) == [
        acme.outbox / "acme" / "a.csv.resolved.csv"
    ]
    assert leftovers(acme) == []
    # The same content from another partner is that partner's own ingest.
    drop(acme, "zenith", "a.csv", text)
    assert run_once(acme) == {"purged": 1}


def test_full_refresh_removals_are_a_new_version(acme: Home) -> None:
    drop(acme, "acme", "1.csv", csv_text(people(0, 100)))
    run_once(acme)
    drop(acme, "acme", "2.csv", csv_text(people(20, 100)))
    run_once(acme)
    with Segments(acme) as segments:
        versions = segments.versions("sports")
        assert [(v.version, v.members, v.added, v.removed) for v in versions] == [
            (1, 100, 100, 0),
            (2, 100, 20, 20),
        ]
        joined, left = segments.changes("sports", 1, 2)
        assert len(joined) == len(left) == 20
        assert set(left.to_list()).isdisjoint(segments.person_keys("sports").to_list())
        members = segments.members("sports")
        assert members["person_key"].n_unique() == 100
        assert members.height == 200  # one row per match key: each person's email and phone
        assert members["email_sha256"].drop_nulls().len() == 100


def test_incremental_sidecar_and_optout(acme: Home) -> None:
    both = people(0, 30, "sports|news")
    drop(acme, "acme", "base.csv", csv_text(both))
    run_once(acme)
    (acme.inbox / "acme" / "delta.csv.toml").write_text('segment = "news"\nmode = "incremental"\n')
    delta = [{**p, "action": "delete"} for p in people(0, 5, "")] + [
        {**p, "action": "add"} for p in people(100, 3, "")
    ]
    drop(acme, "acme", "delta.csv", csv_text(delta))
    run_once(acme)
    with Segments(acme) as segments:
        assert segments.get("news").members == 30 - 5 + 3
        assert segments.get("sports").members == 30
    optout = [{"email": p["email"]} for p in people(10, 4)]
    drop(acme, "acme", "optout/stop.csv", csv_text(optout), done=False)
    run_once(acme)
    with Segments(acme) as segments:
        assert segments.get("news").members == 28 - 4
        assert segments.get("sports").members == 26
        # A later file adds one of them back.
    drop(
        acme,
        "acme",
        "again.csv",
        csv_text(people(10, 1, "sports") + people(0, 30, "sports")[:10] + people(14, 16, "sports")),
    )
    run_once(acme)
    with Segments(acme) as segments:
        assert segments.get("sports").members == 27


def test_segment_names_are_per_partner_and_a_clash_reveals_nothing(acme: Home) -> None:
    """Two partners' "sports fans" are two segments: the second partner's file is taken as
    usual (it used to be quarantined, telling zenith that another partner had the name),
    and the operators' name of its segment is qualified."""
    drop(acme, "acme", "a.csv", csv_text(people(0, 10, "Sports Fans")))
    drop(acme, "zenith", "z.csv", csv_text(people(0, 12, "sports  fans")))
    assert run_once(acme) == {"purged": 2}
    assert not list((acme.quarantine / "zenith").glob("*"))
    told = (acme.outbox / "zenith" / "z.csv.report.json").read_text()
    assert "acme" not in told
    assert "another partner" not in told
    with Segments(acme) as segments:
        listed = sorted((s.name, s.partner, s.members) for s in segments.all())
        assert listed == [("Sports Fans", "acme", 10), ("sports fans (zenith)", "zenith", 12)]
        with pytest.raises(SegmentError, match="already taken"):
            segments.copy("sports fans", "SPORTS FANS")
        copy = segments.copy("sports fans", "Sports fans (EU account)")
        assert copy.members == 10
        assert copy.copy_of == "Sports Fans"
        segments.rename("sports fans (zenith)", "Zenith sports")
    # zenith's files still reach its segment by zenith's own name
    drop(acme, "zenith", "z2.csv", csv_text(people(0, 5, "Sports Fans")))
    assert run_once(acme) == {"purged": 1}
    with Segments(acme) as segments:
        assert segments.get("Zenith sports").members == 5
        assert segments.get("Sports Fans").members == 10


def test_cli_partners_status_and_serve(acme: Home) -> None:
    runner = CliRunner()
    env = {"TESSERA_HOME": str(acme.root), "TESSERA_INBOX__STABLE_SECONDS": "0"}
    result = runner.invoke(main, ["partners", "add", "Bad Name"], env=env)
    assert result.exit_code != 0
    assert "lowercase" in result.output
    result = runner.invoke(main, ["partners", "add", "globex", "--region", "GB"], env=env)
    assert result.exit_code == 0, result.output
    assert oct((acme.inbox / "globex").stat().st_mode & 0o777) == "0o700"
    drop(acme, "globex", "uk.csv", csv_text(people(0, 20)))
    (acme.inbox / "globex" / "broken.csv").write_text("email\n\xff\n", encoding="latin-1")
    (acme.inbox / "globex" / "broken.csv.done").write_text("")
    result = runner.invoke(main, ["serve", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 files" in result.output
    result = runner.invoke(main, ["status", "--json"], env=env)
    data = json.loads(result.output)
    assert data["files"] == {"purged": 1, "quarantined": 1}
    assert data["quarantined"][0]["code"] == "invalid_utf8"
    assert data["segments"][0]["members"] == 20
    result = runner.invoke(main, ["status"], env=env)
    assert "Quarantine" in result.output
    assert "invalid_utf8" in result.output
    result = runner.invoke(main, ["partners", "list"], env=env)
    assert "globex" in result.output
    assert "GB" in result.output


def test_serve_stops_cleanly_on_sigterm(acme: Home) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "resolver", "serve", "--interval", "0.2", "--json"],
        env=serve_env(acme),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        drop(acme, "acme", "live.csv", csv_text(people(0, 10)))
        deadline = time.monotonic() + 60
        while not (acme.outbox / "acme" / "live.csv.resolved.csv").exists():
            assert time.monotonic() < deadline, "serve did not pick the file up"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert json.loads(out)["files"] == {"purged": 1}


def test_one_serve_per_home(acme: Home) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "resolver", "serve", "--interval", "0.2"],
        env=serve_env(acme),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (acme.logs / "serve.log").exists() and proc.poll() is None:
            drop(acme, "acme", "x.csv", csv_text(people(0, 3)))
            assert time.monotonic() < deadline
            time.sleep(0.2)
        result = CliRunner().invoke(main, ["serve", "--once"], env={"TESSERA_HOME": str(acme.root)})
        assert result.exit_code != 0
        assert "another" in result.output
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert os.path.exists(acme.logs / "serve.log")


def test_raw_retention_keeps_the_file_sealed_then_deletes_it(
    acme: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INBOX__RAW_RETENTION_DAYS", "30")
    home = Home.open(acme.root)
    text = csv_text(people(0, 40))
    drop(home, "acme", "kept.csv", text)
    assert run_once(home) == {"purged": 1}
    sealed = list((home.store / "raw" / "acme").glob("*.sealed"))
    assert len(sealed) == 1
    assert b"person1@example.com" not in sealed[0].read_bytes()
    sealer = Sealer(home.keyring().partner_data_key("acme"))
    file_id = int(sealed[0].stem)
    assert sealer.open_stream(sealed[0], f"raw/{file_id}") == text.encode()
    assert leftovers(home) == []
    monkeypatch.setenv("TESSERA_INBOX__RAW_RETENTION_DAYS", "0")
    run_once(Home.open(acme.root))
    assert list((home.store / "raw" / "acme").glob("*.sealed")) == []


def test_sidecar_errors_never_echo_its_content(acme: Home) -> None:
    """A sidecar's keys can be anything a partner typed, an email included (issue 9,
    item 10): the error names the sidecar, the count and the known keys only."""
    (acme.inbox / "acme" / "x.csv.toml").write_text('"jane@x.com" = 1\nsegment = "s"\n')
    drop(acme, "acme", "x.csv", csv_text(people(0, 3)))
    (acme.inbox / "acme" / "y.csv.toml").write_text('segment = "jane.doe@x.com\n')
    drop(acme, "acme", "y.csv", csv_text(people(0, 4)))
    assert run_once(acme) == {"quarantined": 2}
    shown = json.dumps(status_data(acme))
    shown += "".join(p.read_text() for p in (acme.quarantine / "acme").glob("*.error.json"))
    with Control(acme.control_db) as control:
        shown += "".join(rec.error or "" for rec in control.files())
    assert "jane" not in shown
    assert "1 unknown key(s); known: segment, mode" in shown
    assert '"line": 1' in shown


def test_hostile_names_reach_no_terminal_raw(acme: Home) -> None:
    """ESC/OSC sequences and right-to-left overrides in a refused file's name are shown
    escaped by `serve`, `status` and the log (issue 9, item 11)."""
    for name in ("\x1b]0;pwned\x07.csv", "rtl\u202egpj.csv", "bell\x07\x1b[2J.csv"):
        (acme.inbox / "acme" / name).write_text("email\na@b.com\n")
    env = {"TESSERA_HOME": str(acme.root), "TESSERA_INBOX__STABLE_SECONDS": "0"}
    served = CliRunner().invoke(main, ["serve", "--once"], env=env)
    status = CliRunner().invoke(main, ["status"], env=env)
    as_json = CliRunner().invoke(main, ["status", "--json"], env=env)
    shown = served.output + status.output + as_json.output + (acme.logs / "serve.log").read_text()
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in shown
    assert "\\u202e" in json.loads(as_json.output)["quarantined"][-1]["file"] + as_json.output


def test_header_only_files_are_valid(acme: Home) -> None:
    """A header-only file was quarantined as internal_error (issue 9, item 2): an empty
    opt-out changes nothing, and an empty full refresh of a named segment empties it."""
    drop(acme, "acme", "base.csv", csv_text(people(0, 30, "sports")))
    assert run_once(acme) == {"purged": 1}
    drop(acme, "acme", "optout/none.csv", "email\n")
    drop(acme, "acme", "nothing.csv", "email,phone,segments\n")
    assert run_once(acme) == {"purged": 2}
    with Segments(acme) as segments:
        assert [v.members for v in segments.versions("sports")] == [30]
    (acme.inbox / "acme" / "empty.csv.toml").write_text('segment = "sports"\n')
    drop(acme, "acme", "empty.csv", "email\n")
    assert run_once(acme) == {"purged": 1}
    with Segments(acme) as segments:
        assert [(v.members, v.removed) for v in segments.versions("sports")] == [(30, 0), (0, 30)]
    report = json.loads((acme.outbox / "acme" / "empty.csv.report.json").read_text())
    assert report["rows"] == 0
    assert (acme.outbox / "acme" / "empty.csv.resolved.csv").read_text().startswith("row,")


def test_one_segment_spelled_two_ways_in_a_file(acme: Home) -> None:
    """`Movie Fans` and `movie  fans` in one file are one segment: a new one was
    quarantined as segment_conflict, an existing one kept one spelling's members (issue 9,
    item 4)."""
    rows = people(0, 10, "Movie Fans") + people(10, 10, "movie  fans")
    drop(acme, "acme", "a.csv", csv_text(rows))
    assert run_once(acme) == {"purged": 1}
    with Segments(acme) as segments:
        assert [(s.name, s.members) for s in segments.all()] == [("Movie Fans", 20)]
    again = people(5, 10, "MOVIE FANS") + people(30, 5, "movie fans")
    drop(acme, "acme", "b.csv", csv_text(again))
    assert run_once(acme) == {"purged": 1}
    with Segments(acme) as segments:
        assert [(s.name, s.members) for s in segments.all()] == [("Movie Fans", 15)]


def test_a_resent_older_refresh_is_a_refresh_and_a_retry_is_not(acme: Home) -> None:
    """v1, v2, then v1 again under another name: the segment reverts to v1 (it stayed at
    v2, the re-send dropped as a duplicate). A retry of the latest file is still a
    duplicate, the partner is told in the outbox, and the same rows for another segment
    (another sidecar) are another file (issue 9, item 3)."""
    v1, v2 = csv_text(people(0, 20)), csv_text(people(10, 20))
    drop(acme, "acme", "v1.csv", v1)
    assert run_once(acme) == {"purged": 1}
    drop(acme, "acme", "v1-retry.csv", v1)
    assert run_once(acme) == {"duplicate": 1}
    told = json.loads((acme.outbox / "acme" / "v1-retry.csv.report.json").read_text())
    assert (told["state"], told["duplicate_of"]) == ("duplicate", "v1.csv")
    drop(acme, "acme", "v2.csv", v2)
    drop(acme, "acme", "v3-is-v1.csv", v1)
    assert run_once(acme) == {"purged": 2}
    with Segments(acme) as segments:
        assert [(v.members, v.added, v.removed) for v in segments.versions("sports")] == [
            (20, 20, 0),
            (20, 10, 10),
            (20, 10, 10),
        ]
        first, third = segments.person_keys("sports", 1), segments.person_keys("sports", 3)
        assert sorted(first.to_list()) == sorted(third.to_list())
    (acme.inbox / "acme" / "other.csv.toml").write_text('segment = "news"\n')
    drop(acme, "acme", "other.csv", v1)
    assert run_once(acme) == {"purged": 1}
