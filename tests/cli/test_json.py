"""`--json` where a machine wants it, in the documented form: one object, its key naming
the records (README, "JSON output")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import script


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("json")
    run = script("distributor", "--home", str(root / "h"), "demo", "--rows", "300", cwd=root)
    assert run.code == 0, run
    return root / "h"


def _json(home: Path, *argv: str) -> dict[str, object]:
    run = script(argv[0], *argv[1:], "--json", "--home", str(home), cwd=home.parent)
    assert run.code == 0, run
    found: dict[str, object] = json.loads(run.out)
    return found


def test_partners_list(demo_home: Path) -> None:
    found = _json(demo_home, "resolver", "partners", "list")
    assert found["partners"] == [
        {
            "partner": "demo-partner",
            "region": "US",
            "files": 2,
            "committed": 2,
            "quarantined": 0,
            "inbox": str(demo_home / "inbox" / "demo-partner"),
        }
    ]


def test_keys_show_gives_fingerprints_only(demo_home: Path) -> None:
    found = _json(demo_home, "resolver", "keys", "show")
    prints = found["fingerprints"]
    assert isinstance(prints, dict)
    assert {"master", "node"} <= set(prints)
    key = (demo_home / "master.key").read_text().strip()
    assert all(len(v) == 16 and v not in key for v in prints.values())


def test_accounts_list_masks_tokens(demo_home: Path) -> None:
    (account,) = _json(demo_home, "distributor", "accounts", "list")["accounts"]  # type: ignore[misc]
    assert set(account) == {"name", "platform", "advertiser_id", "role", "token", "checked"}
    assert account["name"] == "Demo TikTok"
    assert account["token"].startswith("****")


def test_segments_list(demo_home: Path) -> None:
    segments = _json(demo_home, "distributor", "segments", "list")["segments"]
    assert isinstance(segments, list)
    sports = next(s for s in segments if s["segment"] == "sports fans")
    assert sports["partner"] == "demo-partner"
    assert isinstance(sports["members"], int)
    assert sports["distributed_to"] == ["Demo TikTok"]
    assert sports["copy_of"] is None


def test_hash_prints_its_report_as_json(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("email\na@b.com\nnot-an-email\n")
    run = script("resolver", "hash", "in.csv", "-o", "out.csv", "--json", cwd=tmp_path)
    assert run.code == 0, run
    report = json.loads(run.out)
    assert report["rows"] == 2
    assert "a@b.com" not in run.out


def test_segments_show(demo_home: Path) -> None:
    found = _json(demo_home, "distributor", "segments", "show", "sports fans")
    assert found["segment"] == "sports fans"
    versions = found["versions"]
    assert isinstance(versions, list)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[-1]["members"] == found["members"]
    (run,) = found["distributions"]  # type: ignore[misc]
    assert run["account"] == "Demo TikTok"
    assert run["status"] == "done"


def test_accounts_check_says_per_account_whether_its_token_works(demo_home: Path) -> None:
    closed = {"TESSERA_TIKTOK__API_BASE_URL": "http://127.0.0.1:9"}  # the emulator is gone
    argv = ["accounts", "check", "--json", "--home", str(demo_home)]
    run = script("distributor", *argv, cwd=demo_home.parent, env=closed)
    assert run.code == 1, run
    (account,) = json.loads(run.out)["accounts"]
    assert account["account"] == "Demo TikTok"
    assert account["ok"] is False
    assert "could not validate the token" in account["error"]
