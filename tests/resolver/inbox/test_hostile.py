"""Bad and hostile inbox entries (research: reliability T1.7, T4.6–T4.9) are each refused or
quarantined with a reason and no values, while a good file beside them finishes; and a
canary sweep finds no identifier, plain or SHA-256, anywhere on disk after ingest."""

from __future__ import annotations

import base64
import errno
import gzip
import hashlib
import io
import json
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resolver.home import Home
from resolver.inbox.service import Service
from resolver.inbox.watch import display_name
from resolver.segments.catalog import Segments
from resolver.state.control import Control
from tests.resolver.inbox.support import csv_text, drop, leftovers, make_home, people, serve

SECRET_VALUE = "hostile.secret@example.com"


def corpus() -> dict[str, tuple[bytes, str]]:
    """name → (content, expected code)."""
    good_row = f"{SECRET_VALUE},+14155550000\n"
    long_line = "email\n" + "x" * 70_000 + "@example.com\n"
    return {
        "empty.csv": (b"", "empty_file"),
        "no_id_column.csv": (b"name,age\nann,3\n", "no_identifier_column"),
        "ragged.csv": (f"email,phone\n{good_row}a@b.com,1,2,3\n".encode(), "ragged_row"),
        "unclosed_quote.csv": (f'email,phone\n{good_row}"a@b.com,1\n'.encode(), "malformed_csv"),
        "invalid_utf8.csv": (b"email\n" + SECRET_VALUE.encode() + b"\xff\xfe\n", "invalid_utf8"),
        "utf16.csv": (("email\n" + SECRET_VALUE + "\n").encode("utf-16"), "unsupported_format"),
        "binary.csv": (b"\x00" + os.urandom(4096), "nul_byte"),
        "latin1.csv": ("email\nrené@example.com\n".encode("latin-1"), "invalid_utf8"),
        "archive.zip": (b"PK\x03\x04\x14\x00\x00\x00" + os.urandom(2000), "unsupported_format"),
        "giant_line.csv": (long_line.encode(), "line_too_long"),
        "bomb.csv.gz": (gzip.compress(b"email\n" + b"a" * 30_000_000), "decompression_bomb"),
        "corrupt.csv.gz": (b"\x1f\x8b\x08\x00" + os.urandom(500), "unreadable"),
        "truncated.csv.gz": (
            gzip.compress(("email\n" + (SECRET_VALUE + "\n") * 5000).encode())[:300],
            "unreadable",
        ),
        "corrupt.parquet": (b"PAR1" + os.urandom(300) + b"PAR1", "unreadable"),
        "too_large.csv": (b"email\n" + b"a@example.com\n" * 100_000, "too_large"),
        "bad_sidecar.csv": (f"email,phone\n{good_row}".encode(), "bad_sidecar"),
        "a\nnewline.csv": (b"email\na@b.com\n", "bad_name"),
        "rtl\u202egpj.csv": (b"email\na@b.com\n", "bad_name"),
        "-rf.csv": (b"email\na@b.com\n", "bad_name"),
        "x" * 201 + ".csv": (b"email\na@b.com\n", "bad_name"),
        "header_dup.csv": (b"email,email\na@b.com,c@d.com\n", "duplicate_column"),
    }


def special_entries(folder: Path, other: Path) -> dict[str, str]:
    """Entries that are not regular files, made in place; name → expected code."""
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "other_partner.csv").symlink_to(other)
    (folder / "dangling.csv").symlink_to(folder / "nowhere")
    target = folder.parent.parent / "outside.csv"
    target.write_text("email\na@b.com\n")
    os.link(target, folder / "hardlink.csv")
    os.mkfifo(folder / "fifo.csv")
    (folder / "folder.csv").mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.csv"))
    sock.close()
    os.close(os.open(os.fsencode(folder) + b"/bad\xffname.csv", os.O_CREAT | os.O_WRONLY, 0o600))
    return {
        "passwd.csv": "not_regular_file",
        "other_partner.csv": "not_regular_file",
        "dangling.csv": "not_regular_file",
        "hardlink.csv": "hard_link",
        "fifo.csv": "not_regular_file",
        "folder.csv": "not_regular_file",
        "sock.csv": "not_regular_file",
        "bad\\xffname.csv": "bad_name",
    }


@pytest.fixture
def hostile_home(tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "0")
    monkeypatch.setenv("TESSERA_INBOX__MAX_FILE_BYTES", "1000000")
    monkeypatch.setenv("TESSERA_INBOX__MAX_DECOMPRESSED_BYTES", "20000000")
    make_home(tmp_path / "home", "acme", "zenith")
    return Home.open(tmp_path / "home")


def test_hostile_corpus_is_quarantined_and_a_good_file_finishes(hostile_home: Home) -> None:
    home = hostile_home
    folder = home.inbox / "acme"
    expected: dict[str, str] = {}
    for name, (content, code) in corpus().items():
        (folder / name).write_bytes(content)
        expected[name] = code
    (folder / "bad_sidecar.csv.toml").write_text("mode = [broken\n")
    expected |= special_entries(folder, home.inbox / "zenith")
    drop(home, "acme", "zz-good.csv", csv_text(people(0, 100)), done=False)
    drop(home, "zenith", "good.csv", csv_text(people(0, 100, "z")), done=False)
    assert len(expected) >= 25

    summary = Service(home).run(once=True)

    counts = summary.counts()
    assert counts == {"quarantined": len(expected), "purged": 2}
    with Control(home.control_db) as control:
        codes = {
            rec.name: json.loads(rec.error or "")["code"] for rec in control.files("quarantined")
        }
    # Names are kept and shown escaped (control and bidirectional characters as \xNN, \uNNNN).
    assert codes == {display_name(name): code for name, code in expected.items()}
    reports = list((home.quarantine / "acme").glob("*.error.json"))
    assert len(reports) == len(expected)
    for report in reports:
        text = report.read_text()
        assert SECRET_VALUE not in text
        assert json.loads(text)["code"] in set(expected.values())
    assert (home.outbox / "acme" / "zz-good.csv.resolved.csv").exists()
    assert (home.outbox / "zenith" / "good.csv.resolved.csv").exists()
    assert (Path("/etc/passwd")).exists()  # a symlink is moved, never followed
    assert sorted(os.listdir(folder)) == ["optout"]
    assert leftovers(home) == []


# -- canary sweep ---------------------------------------------------------------------

CANARY_EMAILS = [f"canary.{n}@tessera-canary.test" for n in range(20)]
CANARY_PHONES = [f"+1415867{n:04d}" for n in range(20)]
CANARY_MAIDS = [f"6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f{n:04x}" for n in range(20)]


def _needles() -> list[bytes]:
    """Each canary in plaintext and as its SHA-256 (hex either case, base64, raw), in the
    forms any profile would hash."""
    forms: list[str] = []
    for email in CANARY_EMAILS:
        forms += [email, email.upper()]
    for phone in CANARY_PHONES:
        forms += [phone, phone.lstrip("+")]
    for maid in CANARY_MAIDS:
        forms += [maid, maid.upper()]
    needles: list[bytes] = []
    for form in forms:
        digest = hashlib.sha256(form.encode()).digest()
        needles += [
            form.encode(),
            digest,
            digest.hex().encode(),
            digest.hex().upper().encode(),
            base64.b64encode(digest),
        ]
    return needles


def test_canary_sweep_finds_nothing_outside_the_sealed_store(
    tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "0")
    home = make_home(tmp_path / "home", "acme")
    rows = [
        {"email": e.upper(), "phone": p, "idfa": m.upper(), "segments": "canaries"}
        for e, p, m in zip(CANARY_EMAILS, CANARY_PHONES, CANARY_MAIDS, strict=True)
    ]
    pre_hashed = [
        {"email_sha256": hashlib.sha256(e.encode()).hexdigest().upper(), "segments": "canaries"}
        for e in CANARY_EMAILS[:5]
    ]
    drop(home, "acme", "canaries.csv", csv_text(rows))
    drop(home, "acme", "hashed.csv", csv_text(pre_hashed))
    drop(home, "acme", "optout/out.csv", csv_text([{"email": CANARY_EMAILS[0]}]))
    (home.inbox / "acme" / "broken.csv").write_text(csv_text(people(0, 3)) + "x,y,z,w\n")
    (home.inbox / "acme" / "broken.csv.done").write_text("")
    summary = Service(home).run(once=True)
    assert summary.counts() == {"purged": 3, "quarantined": 1}

    with Segments(home) as segments:
        members = segments.members("canaries")
    # The match keys are there for the distributor (decrypted in memory only) ...
    email_keys = set(members.get_column("email_sha256").drop_nulls().to_list())
    assert hashlib.sha256(CANARY_EMAILS[1].encode()).hexdigest() in email_keys
    # ... and nowhere on disk in the clear.
    needles = _needles()
    keyring = home.keyring()
    secrets = [keyring.subkey("node"), keyring.partner_data_key("acme")]
    needles += [key.hex().encode() for key in secrets] + secrets
    hits = []
    for path in home.root.rglob("*"):
        if not path.is_file() or path == home.key_file:
            continue
        data = path.read_bytes()
        hits += [str(path.relative_to(home.root)) for needle in needles if needle in data]
    assert hits == []
    assert pl.read_csv(home.outbox / "acme" / "canaries.csv.resolved.csv").height == 20


# -- files that used to stop the service ------------------------------------------------


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def parquet_corpus() -> dict[str, tuple[bytes, str]]:
    """Parquet files that decode far beyond their size, or hold nested data in a used
    column (issue 9, item 6): name -> (content, expected code)."""
    rows = 2_000_000

    def one_value(value: str) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, np.int32)), pa.array([value]))

    nested = pa.array([{"address": "a@b.com"}] * 3)
    return {
        "long_value.parquet": (
            _parquet(pa.table({"email": one_value("a" * (4 << 20))})),
            "line_too_long",
        ),
        "many_rows.parquet": (
            _parquet(pa.table({"email": one_value("a@b.com")})),
            "decompression_bomb",
        ),
        "nested.parquet": (_parquet(pa.table({"email": nested})), "unsupported_column"),
    }


def test_parquet_bombs_and_nested_columns_quarantine_only_themselves(hostile_home: Home) -> None:
    """A 5 KB Parquet file of 2M rows pointing at one 4 MiB string aborted serve at 2.5 GiB;
    a nested column was an internal_error. Each is refused with its reason in seconds,
    without decoding, and the good file beside them finishes."""
    home = hostile_home
    expected = {}
    for name, (content, code) in parquet_corpus().items():
        assert len(content) < 20_000, name
        (home.inbox / "acme" / name).write_bytes(content)
        expected[name] = code
    good = pa.table(
        {"email": ["a@b.com", "c@d.com"], "segments": [["x", "y"], ["y"]], "junk": [{"k": 1}] * 2}
    )
    (home.inbox / "acme" / "zz-good.parquet").write_bytes(_parquet(good))
    started = time.monotonic()
    summary = Service(home).run(once=True)
    assert time.monotonic() - started < 20
    assert summary.counts() == {"quarantined": 3, "purged": 1}
    with Control(home.control_db) as control:
        codes = {
            rec.name: json.loads(rec.error or "")["code"] for rec in control.files("quarantined")
        }
    assert codes == expected
    with Segments(home) as segments:
        assert {s.name: s.members for s in segments.all()} == {"x": 1, "y": 2}


def _deny(monkeypatch: pytest.MonkeyPatch, name: str, error: int) -> None:
    """Make opening the claimed copy of `name` fail with `error`, as a mode-000 file does
    for a user who is not root (these tests run as root, whom no mode stops)."""
    real = os.open

    def fake(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("/src") and Path(path).parent.name == name:
            raise OSError(error, os.strerror(error), str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr("resolver.pipeline.read.os.open", fake)


def test_an_unreadable_file_is_quarantined_and_serve_goes_on(
    hostile_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mode-000 file crashed serve with a traceback, and every restart crashed on it
    again (issue 9, item 6). A file that cannot be opened or read is quarantined."""
    home = hostile_home
    drop(home, "acme", "a-locked.csv", csv_text(people(0, 5)))
    drop(home, "acme", "b-good.csv", csv_text(people(0, 5)))
    path = home.inbox / "acme" / "a-locked.csv"
    path.chmod(0)
    if os.geteuid() == 0:
        _deny(monkeypatch, "1", errno.EACCES)  # the first claim is file 1
    summary = Service(home).run(once=True)
    assert summary.counts() == {"quarantined": 1, "purged": 1}
    error = json.loads(next((home.quarantine / "acme").glob("*.error.json")).read_text())
    assert error["code"] == "unreadable"


def test_a_disk_fault_stops_serve_and_the_file_resumes(
    hostile_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk is not the file's fault: serve stops, and the file is not counted as a
    failed attempt, so it resumes whole at the next start."""
    home = hostile_home
    drop(home, "acme", "a.csv", csv_text(people(0, 5)))
    real = os.open

    def full(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and "/work/" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, flags, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr("resolver.state.atomic.os.open", full)
        with pytest.raises(OSError, match="No space"):
            Service(home).run(once=True)
    assert Service(home).run(once=True).counts() == {"purged": 1}
    with Control(home.control_db) as control:
        assert control.file(1).attempts == 1


def test_a_file_that_keeps_killing_serve_is_set_aside(hostile_home: Home) -> None:
    """A file whose processing stops the service (an abort, running out of memory) was
    resumed at every start, so no other file ever went through. After
    `inbox.max_attempts` (3) starts it is quarantined as repeated_failure."""
    home = hostile_home
    drop(home, "acme", "a-poison.csv", csv_text(people(0, 900)))
    drop(home, "zenith", "z.csv", csv_text(people(0, 5, "z")))
    crash = {"TESSERA_TESTING": "1", "TESSERA_CRASH_AT": "mid_processing"}
    crash |= {"TESSERA_CRASH_FILE": "a-poison.csv", "TESSERA_RESOLVER__CHUNK_ROWS": "100"}
    for _ in range(3):
        assert serve(home, **crash).returncode == -signal.SIGKILL
    finished = serve(home, **crash)
    assert finished.returncode == 0, finished.stderr
    with Control(home.control_db) as control:
        states = {rec.name: rec.state for rec in control.files()}
        errors = [json.loads(rec.error or "{}") for rec in control.files("quarantined")]
    assert states == {"a-poison.csv": "quarantined", "z.csv": "purged"}
    assert errors[0]["code"] == "repeated_failure"
    assert leftovers(home) == []


def test_a_linked_optout_folder_is_never_followed(hostile_home: Home, tmp_path: Path) -> None:
    """`inbox/acme/optout` linked outside the home made serve move, ingest and delete files
    there; linked to `../zenith` it took zenith's files as acme's opt-outs (issue 9,
    item 7). The link is quarantined unopened; what it points at is left alone."""
    home = hostile_home
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.csv").write_text(csv_text(people(0, 5)))
    optout = home.inbox / "acme" / "optout"
    optout.rmdir()
    optout.symlink_to(outside)
    drop(home, "zenith", "z.csv", csv_text(people(0, 10, "z")))
    assert Service(home).run(once=True).counts() == {"quarantined": 1, "purged": 1}
    assert (outside / "victim.csv").exists()
    assert not optout.is_symlink()
    assert not optout.exists()
    with Control(home.control_db) as control:
        (refused,) = control.files("quarantined")
        assert json.loads(refused.error or "")["code"] == "not_regular_file"
    (home.inbox / "acme" / "optout").symlink_to(Path("..") / "zenith")
    drop(home, "zenith", "z2.csv", csv_text(people(0, 10, "z2")))
    assert Service(home).run(once=True).counts() == {"quarantined": 1, "purged": 1}
    with Control(home.control_db) as control:
        assert {r.partner for r in control.files("purged")} == {"zenith"}
    with Segments(home) as segments:
        assert segments.get("z2").members == 10


def test_a_linked_partner_folder_is_not_read(hostile_home: Home, tmp_path: Path) -> None:
    home = hostile_home
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.csv").write_text(csv_text(people(0, 5)))
    folder = home.inbox / "acme"
    os.rename(folder, tmp_path / "acme-moved")
    folder.symlink_to(outside)
    logged: list[str] = []
    assert Service(home, log=logged.append).run(once=True).counts() == {}
    assert (outside / "x.csv").exists()
    assert any("inbox/acme is not a real folder" in line for line in logged)
