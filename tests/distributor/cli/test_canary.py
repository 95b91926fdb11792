"""The canary sweep: plant identifiers, run the whole path (serve, distribute, a refresh,
serve, sync, raw retention on), then read every file under the home the way an attacker
with the disk would (raw bytes, gzip decompressed, every Parquet column as text, every
SQLite table through its WAL) and find no identifier, plain or as a SHA-256 in any
encoding, outside sealed blobs, and no file or folder open to group or others (issue 9,
item 8 and its Must show; the README's "What is kept")."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import sqlite3
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from distributor.sandbox.handle import InProcessSandbox
from resolver.cli import main as resolver_main
from resolver.home import Home
from tests.distributor.helpers import add_account, cli, wire
from tests.resolver.inbox.support import csv_text, drop

EMAILS = [f"canary.{n}@tessera-canary.test" for n in range(30)]
PHONES = [f"+1415867{n:04d}" for n in range(30)]
MAIDS = [f"6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f{n:04x}" for n in range(30)]


def _forms() -> list[str]:
    """Each canary as it may be written or hashed by any profile."""
    forms: list[str] = []
    for email in EMAILS:
        forms += [email, email.upper()]
    for phone in PHONES:
        forms += [phone, phone.lstrip("+")]
    for maid in MAIDS:
        forms += [maid, maid.upper()]
    return forms


def needles() -> list[bytes]:
    found: list[bytes] = []
    for form in _forms():
        digest = hashlib.sha256(form.encode()).digest()
        found += [form.encode(), digest, digest.hex().encode(), digest.hex().upper().encode()]
        found.append(base64.b64encode(digest))
    return found


def rows(first: int, count: int, segment: str) -> list[dict[str, str]]:
    """Canaries as a partner writes them: mixed case, a typed and an untyped MAID."""
    return [
        {
            "email": EMAILS[n].upper(),
            "phone": PHONES[n],
            "idfa": MAIDS[n].upper() if n % 2 else "",
            "maid": "" if n % 2 else MAIDS[n],
            "segments": segment,
        }
        for n in range(first, first + count)
    ]


def _parquet_text(data: bytes) -> bytes:
    """Every cell of every column: bytes as they are, anything else as its text."""
    table = pq.read_table(io.BytesIO(data))
    cells = [
        value if isinstance(value, bytes) else str(value).encode()
        for column in table.columns
        for value in column.to_pylist()
        if value is not None
    ]
    return b"\n".join(cells)


def _sqlite_text(path: Path) -> bytes:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = [
            value if isinstance(value, bytes) else str(value).encode()
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names
            for value in row
            if value is not None
        ]
    return b"\n".join(cells)


def readable(path: Path) -> list[bytes]:
    """The file's bytes, and what a reader decodes from them."""
    data = path.read_bytes()
    views = [data]
    if data[:2] == b"\x1f\x8b":
        views.append(gzip.decompress(data))
    if data[:4] == b"PAR1":
        views.append(_parquet_text(data))
    if data[:16] == b"SQLite format 3\x00":
        views.append(_sqlite_text(path))
    return views


@pytest.fixture
def ran(home: Path, fast_sandbox: InProcessSandbox, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The whole path once, a refresh included, with raw retention on."""
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "0")
    monkeypatch.setenv("TESSERA_INBOX__RAW_RETENTION_DAYS", "30")
    wire(home, fast_sandbox)
    runner = CliRunner()
    assert (
        runner.invoke(resolver_main, ["--home", str(home), "partners", "add", "acme"]).exit_code
        == 0
    )
    add_account(home, fast_sandbox)
    drop(Home.open(home), "acme", "canaries.csv", csv_text(rows(0, 30, "canaries")))
    drop(Home.open(home), "acme", "optout/out.csv", csv_text([{"email": EMAILS[0]}]))
    served = runner.invoke(resolver_main, ["--home", str(home), "serve", "--once"])
    assert served.exit_code == 0, served.output
    result = cli(home, fast_sandbox, "distribute", "canaries", "--account", "acme", "--json")
    assert result.exit_code == 0, result.output
    drop(
        Home.open(home),
        "acme",
        "gz.csv.gz",
        gzip.compress(csv_text(rows(10, 20, "canaries")).encode()),
    )
    assert runner.invoke(resolver_main, ["--home", str(home), "serve", "--once"]).exit_code == 0
    assert cli(home, fast_sandbox, "sync", "canaries").exit_code == 0
    return home


def test_no_identifier_or_its_hash_anywhere_in_the_home(
    ran: Path, fast_sandbox: InProcessSandbox
) -> None:
    home = Home.open(ran)
    keyring = home.keyring()
    keys = [keyring.subkey("node"), keyring.partner_data_key("acme"), keyring.subkey("content")]
    token = fast_sandbox.token("admin").encode()
    secrets = [*needles(), token, *keys, *(key.hex().encode() for key in keys)]
    files = [p for p in ran.rglob("*") if p.is_file() and p != home.key_file]
    assert any(p.suffix == ".parquet" and "held" in p.parts for p in files)
    assert any(p.name.endswith(".sealed") for p in files)  # the retained raw files
    hits = sorted(
        {
            str(path.relative_to(ran))
            for path in files
            for view in readable(path)
            for secret in secrets
            if secret in view
        }
    )
    assert hits == []


def test_nothing_in_the_home_is_open_to_others(ran: Path) -> None:
    loose = [
        f"{path.relative_to(ran)} {stat.filemode(path.stat().st_mode)}"
        for path in [ran, *ran.rglob("*")]
        if path.stat().st_mode & 0o077
    ]
    assert loose == []
