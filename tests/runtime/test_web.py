from __future__ import annotations

import pytest
import requests

from bot.errors import AuditStoreError
from tests.conftest import SlackHarness


def test_healthz_answers_while_the_audit_store_answers(harness: SlackHarness) -> None:
    response = requests.get(f"{harness.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "audit_store": "ok",
        "sender": "not seen",
    }


def test_healthz_is_503_when_the_audit_store_is_down(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise AuditStoreError("database is locked")

    monkeypatch.setattr(harness.store, "ping", down)
    response = requests.get(f"{harness.url}/healthz", timeout=5)
    assert response.status_code == 503
    assert response.json()["audit_store"] == "down"


def test_unknown_paths_are_404_and_slack_events_only_take_post(
    harness: SlackHarness,
) -> None:
    assert requests.get(f"{harness.url}/nope", timeout=5).status_code == 404
    assert requests.get(f"{harness.url}/slack/events", timeout=5).status_code == 405


def test_an_unsigned_request_is_refused(harness: SlackHarness) -> None:
    response = requests.post(
        f"{harness.url}/slack/events", data=b"command=%2Fsms&text=help", timeout=5
    )
    assert response.status_code == 401
