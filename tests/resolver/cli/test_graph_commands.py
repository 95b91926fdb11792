"""`resolver graph stats|explain|rebuild` and `resolver forget` on a served home: counts
that match what was sent, no identifier (plain or hashed) in anything they print or
write, IDs that survive a rebuild, and a tombstone that only a deliberate re-send lifts."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from resolver import Home
from resolver.cli import main
from resolver.inbox.service import Service
from tests.resolver.inbox.support import csv_text, drop, make_home

PEOPLE = 20
SHOP_PHONE = "+14155550100"  # typed for 12 customers: more than max_links (10) emails
JUNK = "test@test.com"


def email(n: int) -> str:
    return f"person{n}@example.com"


def phone(n: int) -> str:
    return f"+1415777{n:04d}"


def maid(n: int) -> str:
    return f"6d92078a-8246-4ba4-ae5b-76104861{n:04d}"


def serve(home: Home) -> None:
    service = Service(home)
    try:
        service.run(once=True)
    finally:
        service.close()


def ids(home: Home, name: str, partner: str = "acme") -> list[dict[str, str]]:
    with (home.outbox / partner / f"{name}.resolved.csv").open() as handle:
        return list(csv.DictReader(handle))


def run(home: Home, *args: str) -> str:
    result = CliRunner().invoke(main, ["--home", str(home.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def secrets() -> list[str]:
    """Every identifier sent, and its SHA-256, as they could leak."""
    values = [JUNK, SHOP_PHONE, SHOP_PHONE.lstrip("+")]
    for n in range(PEOPLE):
        values += [email(n), phone(n), phone(n).lstrip("+"), maid(n)]
    return values + [hashlib.sha256(v.encode()).hexdigest() for v in values]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    home = make_home(tmp_path / "home", "acme", "other")
    crm = [{"email": email(n), "phone": phone(n)} for n in range(PEOPLE)]
    crm += [{"email": email(n), "phone": SHOP_PHONE} for n in range(12)]
    crm += [{"email": JUNK, "phone": phone(0)}]
    drop(home, "acme", "crm.csv", csv_text(crm))
    serve(home)
    app = [{"email": email(n), "idfa": maid(n), "segments": "app"} for n in range(PEOPLE)]
    drop(home, "acme", "app.csv", csv_text(app))
    serve(home)
    return home


def test_stats_count_persons_kinds_rules_and_each_files_changes(home: Home) -> None:
    out = run(home, "graph", "stats", "--partner", "acme", "--json")
    assert not [s for s in secrets() if s in out]
    figures = json.loads(out)["acme"]
    assert figures["persons"] == PEOPLE + 1  # the shop phone stands alone
    assert figures["identifiers"] == {"email": PEOPLE + 1, "phone": PEOPLE + 1, "maid": PEOPLE}
    assert figures["by_rule"]["shared"]["phone"] == 1
    assert figures["by_rule"]["blocklist"]["email"] == 1
    assert figures["largest_person"] == 3
    files = [c["file"] for c in figures["changes"]]
    assert files == ["crm.csv", "app.csv"]
    assert figures["changes"][1]["nodes_added"] == PEOPLE  # only the devices were new
    table = run(home, "graph", "stats")
    assert "acme" in table
    assert not [s for s in secrets() if s in table]


def test_explain_names_kinds_counts_and_the_rule_that_kept_a_link_out(home: Home) -> None:
    person = ids(home, "app.csv")[0]["person_id"]
    assert person == ids(home, "crm.csv")[0]["person_id"]
    out = run(home, "graph", "explain", "--partner", "acme", "--person", person, "--json")
    assert not [s for s in secrets() if s in out]
    shown = json.loads(out)
    assert shown["identifiers"] == {"email": 1, "phone": 1, "maid": 1}
    stopped = {(s["rule"], s["kind"]): s["count"] for s in shown["links_stopped"]}
    assert stopped == {("shared", "phone"): 1, ("blocklist", "email"): 1}


def test_explain_refuses_another_partners_id_and_a_malformed_one(home: Home) -> None:
    drop(home, "other", "crm.csv", csv_text([{"email": email(0), "phone": phone(0)}]))
    serve(home)
    theirs = ids(home, "crm.csv", "other")[0]["person_id"]
    for given, said in ((theirs, "not a person of acme's graph"), ("tpAAAA", "not a person_id")):
        args = ["--home", str(home.root), "graph", "explain", "--partner", "acme"]
        result = CliRunner().invoke(main, [*args, "--person", given])
        assert result.exit_code == 1
        assert said in result.output
        assert given not in result.output


def test_a_rebuild_under_the_same_rules_keeps_every_person_id(home: Home) -> None:
    before = run(home, "graph", "stats", "--partner", "acme", "--json")
    run(home, "graph", "rebuild", "--partner", "acme")
    after = json.loads(run(home, "graph", "stats", "--partner", "acme", "--json"))["acme"]
    assert after["persons"] == json.loads(before)["acme"]["persons"]
    assert after["changes"][-1]["cause"] == "rebuild"
    assert after["changes"][-1]["merged"] == after["changes"][-1]["split"] == 0
    assert not list((home.outbox / "acme").glob("graph-rebuild-*.retired.csv"))
    # the IDs the partner holds still name the same persons
    for row in ids(home, "app.csv")[:3]:
        out = run(home, "graph", "explain", "--partner", "acme", "--person", row["person_id"])
        assert "email" in out


def test_forget_tombstones_until_a_sidecar_readmits_on_purpose(home: Home, tmp_path: Path) -> None:
    request = tmp_path / "erase.csv"
    request.write_text(csv_text([{"email": email(3)}]))
    run(home, "forget", "--partner", "acme", str(request))
    reports = list((home.outbox / "acme").glob("forget-*.report.json"))
    assert len(reports) == 1
    report = reports[0].read_text()
    assert not [s for s in secrets() if s in report]
    assert json.loads(report)["persons"] == 1
    again = [{"email": email(3), "idfa": maid(3), "segments": "app"}]
    drop(home, "acme", "again.csv", csv_text(again))
    serve(home)
    assert ids(home, "again.csv")[0]["reject_reason"] == "forgotten"
    drop(home, "acme", "back.csv.toml", "readmit_forgotten = true\n", done=False)
    drop(home, "acme", "back.csv", csv_text(again))
    serve(home)
    back = ids(home, "back.csv")[0]
    assert back["reject_reason"] == ""
    assert back["person_id"].startswith("tp")
