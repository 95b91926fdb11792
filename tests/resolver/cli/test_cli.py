"""The `resolver` command end to end, through click's runner and a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from resolver.cli import main
from resolver.sample import write_sample


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--home", str(home), *args])
    return result.exit_code, result.output


def test_hash_writes_one_row_per_input_row(home: Path, tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "s.csv", 500, seed=1)
    for name in ("out.csv", "out.parquet"):
        code, output = _run(home, "hash", str(sample), "-o", str(tmp_path / name))
        assert code == 0, output
        frame = (
            pl.read_csv(tmp_path / name, infer_schema=False)
            if name.endswith(".csv")
            else pl.read_parquet(tmp_path / name)
        )
        assert len(frame) == 500
        assert frame.columns == [
            "email_sha256",
            "phone_sha256",
            "maid_sha256",
            "email_error",
            "phone_error",
            "maid_error",
        ]
        hashes = frame["email_sha256"].drop_nulls()
        assert hashes.str.contains("^[0-9a-f]{64}$").all()
    assert "rows/s" in output


def test_resolve_writes_ids_and_report(home: Path, tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "s.csv", 400, seed=2)
    out, report = tmp_path / "r.csv", tmp_path / "r.json"
    code, output = _run(
        home, "resolve", str(sample), "--partner", "acme", "-o", str(out), "--report", str(report)
    )
    assert code == 0, output
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.columns == ["row", "person_id", "reject_reason"]
    assert frame["row"].cast(int).to_list() == list(range(1, 401))
    data = json.loads(report.read_text())
    assert data["rows"] == 400
    assert data["resolved"] + data["rejected"] == 400
    assert "distinct persons" in output


def test_bad_input_is_a_clean_error(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("email,phone\nsecret@example.com,1,2\n")
    code, output = _run(
        home, "resolve", str(bad), "--partner", "acme", "-o", str(tmp_path / "o.csv")
    )
    assert code == 1
    assert "bad.csv, line 2, column 3" in output
    assert "secret@example.com" not in output
    assert "Traceback" not in output
    assert not (tmp_path / "o.csv").exists()


def test_resolve_without_a_key_says_how_to_make_one(tmp_path: Path, clean_env: None) -> None:
    sample = write_sample(tmp_path / "s.csv", 10)
    code, output = _run(
        tmp_path / "nohome", "resolve", str(sample), "--partner", "a", "-o", str(tmp_path / "o.csv")
    )
    assert code == 1
    assert "resolver init" in output


def test_keys_show_prints_fingerprints_only(home: Path) -> None:
    code, output = _run(home, "keys", "show")
    assert code == 0
    key_hex = (home / "master.key").read_text().strip()
    assert key_hex not in output
    assert key_hex[:16] not in output
    assert "master" in output


def test_demo_runs_as_a_subprocess(tmp_path: Path, clean_env: None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    result = subprocess.run(
        [sys.executable, "-m", "resolver", "--home", str(tmp_path / "h"), "demo", "--rows", "2000"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "distinct persons" in result.stdout
    assert (tmp_path / "h" / "outbox" / "demo" / "sample.resolved.csv").exists()
