"""Shared fixtures and hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci|debug)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile("debug", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TESSERA_* variables from the developer's shell leak into a test."""
    for name in list(os.environ):
        if name.startswith("TESSERA_"):
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path, clean_env: None) -> Path:
    """An initialized Tessera home in a temporary folder."""
    from resolver.home import Home

    root = tmp_path / "home"
    Home.open(root).initialize()
    return root
