"""The inbox tests' home: partners acme and zenith, files taken as soon as complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolver.home import Home
from tests.resolver.inbox.support import make_home


@pytest.fixture
def acme(tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.setenv("TESSERA_INBOX__STABLE_SECONDS", "0")
    make_home(tmp_path / "home", "acme", "zenith")
    return Home.open(tmp_path / "home")
