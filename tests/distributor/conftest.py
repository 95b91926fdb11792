"""Fixtures for the TikTok emulator: in process (its ASGI app, reached through httpx's ASGI
transport) for most tests, and as a real subprocess for the few that need a process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from distributor.sandbox.handle import InProcessSandbox
from distributor.sandbox.process import SandboxProcess, start_sandbox
from distributor.sandbox.state import SandboxOptions


@pytest.fixture
def sandbox() -> Iterator[InProcessSandbox]:
    """A fresh in-process emulator with a small user base and TikTok's default limits."""
    with InProcessSandbox(SandboxOptions(user_base_size=5000)) as running:
        yield running


@pytest.fixture
def fast_sandbox() -> Iterator[InProcessSandbox]:
    """An in-process emulator without rate limits, for tests that are not about them."""
    options = SandboxOptions(user_base_size=5000, requests_per_second=0, requests_per_minute=0)
    with InProcessSandbox(options) as running:
        yield running


@pytest.fixture
def sandbox_process() -> Iterator[SandboxProcess]:
    """The emulator as a real HTTP server in a subprocess, TikTok's default limits."""
    with start_sandbox("--users", "5000") as running:
        yield running
