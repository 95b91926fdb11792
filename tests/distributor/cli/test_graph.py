"""The identity graph end to end, through both command lines and the emulator: persons
made of three files, audiences carrying all of a person's match keys (and matching more
people for it), a merge and a split reaching TikTok as exactly the changed keys (deletes
first), and an erasure leaving every audience."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from distributor.sandbox.handle import InProcessSandbox
from distributor.sandbox.state import SandboxOptions
from resolver.cli import main as resolver_main
from resolver.home import Home
from resolver.sample import canonical_identifiers
from tests.distributor.cli.test_e2e import audience_keys, serve_once
from tests.distributor.helpers import add_account, cli, wire
from tests.resolver.inbox.support import csv_text, drop

PEOPLE = 1200  # TikTok reports a matched size from 1,000 users
SEED = 7  # the emulator's user base is resolver.sample's people for this seed


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def tiktok_keys(people: range) -> dict[str, set[str]]:
    """What TikTok should hold for these people: every one of their identifiers."""
    canon = canonical_identifiers(np.asarray(people), SEED)
    return {
        "EMAIL_SHA256": {sha(e) for e in canon["email"]},
        "PHONE_SHA256": {sha(p.lstrip("+")) for p in canon["phone"]},
        "IDFA_SHA256": {sha(m) for m in canon["maid"]},
    }


def files(people: range) -> dict[str, list[dict[str, str]]]:
    """A CRM export (email, phone), app logins (email, device) and a loyalty scheme
    (phone, with the segment): no file holds all of anyone's identifiers."""
    canon = canonical_identifiers(np.asarray(people), SEED)
    emails, phones, maids = (canon[c].to_list() for c in ("email", "phone", "maid"))
    return {
        "crm.csv": [{"email": e.upper(), "phone": p} for e, p in zip(emails, phones, strict=True)],
        "app.csv": [{"email": e, "idfa": m} for e, m in zip(emails, maids, strict=True)],
        "loyalty.csv": [{"phone": p, "segments": "Buyers"} for p in phones],
    }


def resolved_ids(home: Path, partner: str, name: str) -> list[str]:
    with (home / "outbox" / partner / f"{name}.resolved.csv").open() as handle:
        return [row["person_id"] for row in csv.DictReader(handle)]


@pytest.fixture
def partial_sandbox() -> InProcessSandbox:
    """TikTok knows 60% of its users by email, 50% by phone, 70% by device."""
    options = SandboxOptions(
        seed=SEED,
        user_base_size=PEOPLE,
        requests_per_second=0,
        requests_per_minute=0,
        registered=(0.6, 0.5, 0.7),
    )
    with InProcessSandbox(options) as running:
        yield running


@pytest.fixture
def wired(home: Path, partial_sandbox: InProcessSandbox) -> Path:
    wire(home, partial_sandbox)
    for partner in ("acme", "solo"):
        result = CliRunner().invoke(
            resolver_main, ["--home", str(home), "partners", "add", partner]
        )
        assert result.exit_code == 0, result.output
    add_account(home, partial_sandbox, "first", n=0)
    return home


def test_three_files_one_person_all_keys_and_a_higher_match(
    wired: Path, partial_sandbox: InProcessSandbox
) -> None:
    sb, home = partial_sandbox, Home.open(wired)
    for name, rows in files(range(PEOPLE)).items():
        drop(home, "acme", name, csv_text(rows))
    # Another partner has only the loyalty list of the same people (another segment).
    loyalty = files(range(PEOPLE))["loyalty.csv"]
    drop(home, "solo", "loyalty.csv", csv_text([{**r, "segments": "Buyers Solo"} for r in loyalty]))
    serve_once(wired)

    crm, app, shop = (resolved_ids(wired, "acme", n) for n in ("crm.csv", "app.csv", "loyalty.csv"))
    assert crm == app == shop  # row i of each file is person i: one person_id everywhere
    assert len(set(crm)) == PEOPLE
    assert set(crm).isdisjoint(resolved_ids(wired, "solo", "loyalty.csv"))  # never across partners

    ours = cli(wired, sb, "distribute", "Buyers", "--account", "first", "--json")
    assert ours.exit_code == 0, ours.output
    report = json.loads(ours.output)[0]
    held = audience_keys(sb, report["audience_id"])
    assert held == tiktok_keys(range(PEOPLE))  # the phone list reached TikTok with every key
    theirs = cli(wired, sb, "distribute", "Buyers Solo", "--account", "first", "--json")
    solo = json.loads(theirs.output)[0]
    assert audience_keys(sb, solo["audience_id"]) == {
        "PHONE_SHA256": tiktok_keys(range(PEOPLE))["PHONE_SHA256"]
    }
    # With about half of TikTok's users known by phone, phones alone match ~50%; with every
    # key of every person, ~1 - 0.4 * 0.5 * 0.3 = 94%.
    assert solo["cover_num"] < 0.6 * PEOPLE
    assert report["cover_num"] > 0.9 * PEOPLE


def _person(n: int) -> dict[str, str]:
    return {"email": f"person{n}@example.org", "phone": f"+1415555{n:04d}"}


def test_a_merge_and_a_split_reach_tiktok_as_exactly_the_changed_keys(
    wired: Path, partial_sandbox: InProcessSandbox
) -> None:
    sb, home = partial_sandbox, Home.open(wired)
    device = "5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25"
    landline = "+14155550999"
    crm = [_person(n) for n in range(40)] + [{"email": "carol@example.org", "phone": landline}]
    crm.append({"idfa": device})  # a device nobody is known by yet: a person of its own
    drop(home, "acme", "crm.csv", csv_text(crm))
    members = [{"email": r["email"], "segments": "Fans"} for r in crm if "email" in r]
    drop(home, "acme", "fans.csv", csv_text(members))
    serve_once(wired)
    first = json.loads(cli(wired, sb, "distribute", "Fans", "--account", "first", "--json").output)[
        0
    ]
    audience = first["audience_id"]
    before = audience_keys(sb, audience)
    assert sha(landline.lstrip("+")) in before["PHONE_SHA256"]

    # The app shows person 0 on the unknown device (a merge: the device's person is
    # retired into person 0's), and Dave typing Carol's landline (now a shared phone:
    # it leaves Carol).
    app = [{"email": "person0@example.org", "idfa": device}]
    app.append({"email": "dave@example.org", "phone": landline})
    drop(home, "acme", "app.csv", csv_text(app))
    serve_once(wired)
    retired = (wired / "outbox" / "acme" / "app.csv.retired.csv").read_text().splitlines()
    assert retired[0] == "retired_person_id,survivor_person_id"
    assert len(retired) == 2  # one merge
    sb.reset_log()
    synced = json.loads(cli(wired, sb, "sync", "Fans", "--json").output)[0]
    after = audience_keys(sb, audience)
    assert after["IDFA_SHA256"] - before.get("IDFA_SHA256", set()) == {sha(device)}
    assert before["PHONE_SHA256"] - after["PHONE_SHA256"] == {sha(landline.lstrip("+"))}
    assert synced["ids_added"] == {"idfa_sha256": 1}  # exactly the changed keys
    assert synced["ids_deleted"] == {"phone_sha256": 1}
    actions = [e["action"] for e in sb.requests() if e["path"] == "segment/mapping/"]
    assert actions == ["delete", "add"]

    # Person 0 asks to be forgotten: gone from the graph, the segment and the audience.
    request = wired / "request.csv"
    request.write_text("email\nperson0@example.org\n")
    forgot = CliRunner().invoke(
        resolver_main, ["--home", str(wired), "forget", "--partner", "acme", str(request)]
    )
    assert forgot.exit_code == 0, forgot.output
    cli(wired, sb, "sync", "Fans")
    gone = audience_keys(sb, audience)
    for id_type, value in (
        ("EMAIL_SHA256", sha("person0@example.org")),
        ("PHONE_SHA256", sha("14155550000")),
        ("IDFA_SHA256", sha(device)),
    ):
        assert value not in gone.get(id_type, set())
    assert sha("person1@example.org") in gone["EMAIL_SHA256"]
    # A re-sent old file does not bring them back.
    drop(home, "acme", "crm-again.csv", csv_text(crm[:5]))
    serve_once(wired)
    report = json.loads((wired / "outbox" / "acme" / "crm-again.csv.report.json").read_text())
    assert report["reject_reasons"] == {"forgotten": 1}
