"""Fixtures that start the TikTok emulator as a real subprocess on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from distributor.sandbox.testing import Sandbox, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh emulator with a small user base and TikTok's default limits."""
    with start_sandbox("--users", "5000") as running:
        yield running


@pytest.fixture
def fast_sandbox() -> Iterator[Sandbox]:
    """An emulator without rate limits, for tests that are not about them."""
    with start_sandbox("--users", "5000", "--rps", "0", "--rpm", "0") as running:
        yield running
