"""A home made with `resolver init` (the installed script), in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import script


@pytest.fixture
def home(tmp_path: Path) -> Path:
    made = tmp_path / "h"
    assert script("resolver", "init", "--home", str(made), cwd=tmp_path).code == 0
    return made
