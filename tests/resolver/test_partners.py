"""Partners: registration, and the region a partner registered with reaching every way a
file of theirs is resolved (`serve` and `resolver resolve --partner`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from resolver.cli import main
from resolver.errors import OptionError
from resolver.home import Home
from resolver.partners import add_partner, resolve_options

UK_NATIONAL = "020 7946 0958"  # valid only read as a GB number


def _resolve(home: Path, tmp_path: Path, partner: str, *extra: str) -> dict[str, object]:
    source = tmp_path / "uk.csv"
    source.write_text(f"phone\n{UK_NATIONAL}\n")
    report = tmp_path / f"{partner}.json"
    args = ["--home", str(home), "resolve", str(source), "--partner", partner]
    result = CliRunner().invoke(
        main, [*args, "-o", str(tmp_path / "o.csv"), "--report", str(report), *extra]
    )
    assert result.exit_code == 0, result.output
    return dict(json.loads(report.read_text()))


def test_resolve_uses_the_partners_registered_region(home: Path, tmp_path: Path) -> None:
    assert add_partner(Home.open(home), "acme", "gb")
    registered = _resolve(home, tmp_path, "acme")
    assert registered["region"] == "GB"
    assert registered["valid"] == {"phone": 1}
    unregistered = _resolve(home, tmp_path, "globex")
    assert unregistered["region"] == "US"
    assert unregistered["invalid"] == {"phone": {"invalid_phone": 1}}
    flagged = _resolve(home, tmp_path, "acme", "--region", "US")
    assert flagged["region"] == "US"


def test_config_region_wins_over_the_registration(home: Path) -> None:
    add_partner(Home.open(home), "acme", "GB")
    (home / "config.toml").write_text('[partners.acme]\nregion = "FR"\n')
    assert resolve_options(Home.open(home), "acme").region == "FR"
    assert resolve_options(Home.open(home), "acme", region="DE").region == "DE"


def test_partner_names_and_regions_are_checked(home: Path) -> None:
    with pytest.raises(OptionError, match="lowercase"):
        add_partner(Home.open(home), "Bad Name", "US")
    with pytest.raises(OptionError, match="region"):
        add_partner(Home.open(home), "ok", "XX")
    assert add_partner(Home.open(home), "ok", "US")
    assert not add_partner(Home.open(home), "ok", "US")
    for folder in ("inbox/ok", "inbox/ok/optout", "outbox/ok", "quarantine/ok"):
        assert (home / folder).stat().st_mode & 0o777 == 0o700
