"""Fixtures of the runtime tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.served import Server


@pytest.fixture
def served() -> Iterator[list[Server]]:
    """Servers a test started; stopped (if still running) when it ends."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.stop()
