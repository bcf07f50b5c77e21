"""An in-process playground on a free port, and helpers to act on it as the page does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.playground.app import Playground, Started


@dataclass
class Running:
    playground: Playground
    started: Started

    @property
    def base(self) -> str:
        return self.started.url.rstrip("/")

    def ui(self, name: str, **data: Any) -> dict[str, Any]:
        response = requests.post(f"{self.base}/ui/{name}", json=data, timeout=10)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def state(self, user: str = "U0ALICE") -> dict[str, Any]:
        return dict(
            requests.get(
                f"{self.base}/ui/state", params={"user": user}, timeout=10
            ).json()
        )

    def messages(self, user: str = "U0ALICE") -> list[dict[str, Any]]:
        return list(self.state(user)["messages"])


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """The first truthy ``check()``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def text_of(message: dict[str, Any]) -> str:
    """A message's fallback text and every text in its blocks, joined."""
    parts = [str(message.get("text") or "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks"))
    return "\n".join(parts)


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.chdir(tmp_path)
    playground = Playground(port=0, workdir=tmp_path, receipt_delay=0.2)
    started = playground.start()
    try:
        yield Running(playground, started)
    finally:
        playground.stop()
