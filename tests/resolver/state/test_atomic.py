"""Durable private writes: a file appears whole or not at all, only its owner can read it,
and what a killed writer leaves behind is swept."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from resolver.state.atomic import (
    DIR_MODE,
    FILE_MODE,
    atomic_file,
    create_exclusive,
    private_dir,
    remove_temp_files,
    write_atomic,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that masks nothing, so modes come from the code and not the shell."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_atomic_file_publishes_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomic(target, b"old")
    with atomic_file(target) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"  # not visible until the block ends
    assert target.read_bytes() == b"new"
    assert leftovers(tmp_path) == []


def write_then_fail(target: Path) -> None:
    with atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("boom")


def test_atomic_file_keeps_old_content_when_the_block_raises(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    write_atomic(target, b"old")
    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail(target)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_file_creates_nothing_when_the_first_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "new.bin"
    with pytest.raises(RuntimeError), atomic_file(target):
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_files_are_created_owner_only(tmp_path: Path, open_umask: None) -> None:
    """Also when replacing a file someone made world-readable."""
    loose = tmp_path / "loose.bin"
    loose.write_bytes(b"x")
    loose.chmod(0o644)
    write_atomic(loose, b"y")
    write_atomic(tmp_path / "fresh.bin", b"z")
    assert create_exclusive(tmp_path / "key", b"k")
    assert FILE_MODE == 0o600
    assert {name: mode(tmp_path / name) for name in ("loose.bin", "fresh.bin", "key")} == {
        "loose.bin": 0o600,
        "fresh.bin": 0o600,
        "key": 0o600,
    }


def test_private_dir_makes_every_missing_level_owner_only(tmp_path: Path, open_umask: None) -> None:
    existing = tmp_path / "existing"
    existing.mkdir(mode=0o755)
    leaf = existing / "a" / "b" / "c"
    assert private_dir(leaf) == leaf
    assert DIR_MODE == 0o700
    assert [mode(p) for p in (existing / "a", existing / "a" / "b", leaf)] == [0o700] * 3
    assert mode(existing) == 0o755  # an existing folder is not the function's to change
    assert private_dir(leaf) == leaf  # idempotent


def test_writes_make_their_folders_private(tmp_path: Path, open_umask: None) -> None:
    write_atomic(tmp_path / "x" / "y" / "file", b"data")
    create_exclusive(tmp_path / "p" / "q" / "file", b"data")
    assert [mode(tmp_path / d) for d in ("x", "x/y", "p", "p/q")] == [0o700] * 4


def test_create_exclusive_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "master.key"
    assert create_exclusive(target, b"first") is True
    assert create_exclusive(target, b"second") is False
    assert target.read_bytes() == b"first"


def test_create_exclusive_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    """O_EXCL fails on a symlink even if it dangles, so nothing is written through it."""
    elsewhere = tmp_path / "elsewhere"
    target = tmp_path / "master.key"
    target.symlink_to(elsewhere)
    assert create_exclusive(target, b"secret") is False
    assert not elsewhere.exists()


def test_remove_temp_files_removes_only_temp_files(tmp_path: Path) -> None:
    """`.NAME.tmp-PID` files anywhere below the root go; other hidden files, files that
    merely look alike, folders and symlinks (and what they point at) stay."""
    deep = private_dir(tmp_path / "a" / "b")
    temps = [tmp_path / ".out.csv.tmp-123", deep / ".v3.parquet.tmp-99999"]
    kept = [
        tmp_path / ".hidden",
        tmp_path / ".out.csv",
        tmp_path / "out.csv.tmp-123",  # not hidden: not ours
        tmp_path / ".out.csv.tmp",
        deep / "v3.parquet",
    ]
    for path in temps + kept:
        path.write_bytes(b"x")
    target = tmp_path / "precious"
    target.write_bytes(b"keep me")
    link = tmp_path / ".link.tmp-5"
    link.symlink_to(target)
    folder = tmp_path / ".dir.tmp-7"
    folder.mkdir()

    assert remove_temp_files(tmp_path) == len(temps)
    assert not any(p.exists() for p in temps)
    assert all(p.exists() for p in kept)
    assert link.is_symlink()
    assert target.read_bytes() == b"keep me"
    assert folder.is_dir()
    assert remove_temp_files(tmp_path) == 0


def test_remove_temp_files_on_a_missing_root(tmp_path: Path) -> None:
    assert remove_temp_files(tmp_path / "absent") == 0


# A writer that publishes half its content, says so, then hangs inside the block.
CHILD = """
import sys, time
from pathlib import Path
from resolver.state.atomic import atomic_file

with atomic_file(Path(sys.argv[1])) as handle:
    handle.write(b"n" * 65536)
    handle.flush()
    print("ready", flush=True)
    time.sleep(30)
    handle.write(b"N" * 65536)
"""


@pytest.mark.parametrize("earlier", [None, b"old content, whole"])
def test_a_writer_killed_mid_block_leaves_old_or_nothing(
    tmp_path: Path, earlier: bytes | None
) -> None:
    """SIGKILL runs no cleanup: the target keeps its earlier content (or stays absent) and
    the one leftover is a temp file that the next start's sweep removes."""
    target = tmp_path / "data" / "out.bin"
    if earlier is not None:
        write_atomic(target, earlier)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    if earlier is None:
        assert not target.exists()
    else:
        assert target.read_bytes() == earlier
    assert leftovers(target.parent) == [f".out.bin.tmp-{child.pid}"]
    assert remove_temp_files(tmp_path) == 1
    assert leftovers(target.parent) == []
    assert earlier is None or target.read_bytes() == earlier
