"""*Fire an alert* plays Alertmanager: the webhook it sends to the app's hook."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bot.playground.alerts import SUMMARY, AlertFirer
from tests.playground.conftest import Running, wait_for


def test_firing_then_resolved_is_alertmanagers_webhook_with_the_token(
    httpserver: HTTPServer,
) -> None:
    received: list[tuple[str, dict[str, object]]] = []

    def hook(request: Request) -> Response:
        received.append((request.headers.get("Authorization", ""), request.get_json()))
        return Response("{}", status=200, content_type="application/json")

    httpserver.expect_request(
        "/hooks/alertmanager/playground", method="POST"
    ).respond_with_handler(hook)
    firer = AlertFirer(httpserver.url_for("/hooks/alertmanager/playground"), "tok-1")

    assert firer.send("firing") == {"status": 200, "answer": "{}"}
    assert firer.send("firing")["status"] == 200  # a repeat, as Alertmanager's
    assert firer.send("resolved")["status"] == 200
    assert firer.send("firing")["status"] == 200  # after the resolve: a new alert

    assert [auth for auth, _ in received] == ["Bearer tok-1"] * 4
    bodies = [body for _, body in received]
    assert [b["version"] for b in bodies] == ["4"] * 4
    assert [b["status"] for b in bodies] == ["firing", "firing", "resolved", "firing"]
    assert len({json.dumps(b["groupKey"]) for b in bodies}) == 1
    alerts = [b["alerts"][0] for b in bodies]  # type: ignore[index]
    # One alert from the first firing to its resolve; the next firing begins later.
    assert alerts[0]["startsAt"] == alerts[1]["startsAt"] == alerts[2]["startsAt"]
    assert alerts[3]["startsAt"] > alerts[2]["startsAt"]
    assert alerts[0]["endsAt"] == "0001-01-01T00:00:00Z"
    ended = datetime.fromisoformat(alerts[2]["endsAt"].replace("Z", "+00:00"))
    assert ended <= datetime.now(UTC)
    assert alerts[0]["labels"]["severity"] == "critical"
    assert alerts[0]["annotations"]["summary"]


def test_the_page_can_only_fire_or_resolve(running: Running) -> None:
    answer = requests.post(f"{running.base}/ui-alert/silence", timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"error": "an alert is either firing or resolved"}


def test_fire_then_resolve_pages_the_rotation_and_the_token_stays_in_the_process(
    running: Running, tmp_path: Path
) -> None:
    token = running.playground.keys.hook_token
    fired = requests.post(f"{running.base}/ui-alert/firing", timeout=30)
    assert fired.status_code == 200 and fired.json()["status"] == 200

    def phone_texts() -> list[str]:
        return [
            m["text"]
            for phone in running.state()["phones"]
            for m in phone["messages"]
            if m["direction"] == "received"
        ]

    (page_sms,) = wait_for(phone_texts)
    assert page_sms.startswith("[sms-bot #1] ") and SUMMARY in page_sms
    resolved = requests.post(f"{running.base}/ui-alert/resolved", timeout=30)
    assert resolved.json()["status"] == 200
    texts = wait_for(lambda: [t for t in phone_texts() if t.startswith("RESOLVED")])
    assert texts == [f"RESOLVED #1: {SUMMARY}"]

    seen = json.dumps(running.state()) + fired.text + resolved.text
    audit = b"".join(f.read_bytes() for f in tmp_path.glob("sms-bot.db*"))
    assert audit  # the audit trail is there (and its WAL, if any)
    assert token not in seen
    assert token.encode() not in audit
