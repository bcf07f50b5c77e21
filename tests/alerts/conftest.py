"""Fixtures of the alert tests: the paging tests' rotation plus two integrations, the
real app served over HTTP, and recorded payload shapes (alerts.md) to post to it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import SlackHarness
from tests.paging.conftest import DIRECTORY, FakeOctopush, octopush, start

__all__ = ["octopush", "start"]

TOKEN = "prom-token-0123456789"
PD_TOKEN = "R0UT1NGKEY0123456789abcdefABCDEF"
HMAC_SECRET = "grafana-hmac-secret"
CHANNEL = "C0OPS"

INTEGRATIONS = f"""\
integrations:
  prometheus:
    pages: db-oncall
    channel: {CHANNEL}
    token_env: SMS_HOOK_TOKEN_PROM
    page_severities: [critical]
  grafana:
    pages: db-oncall
    channel: {CHANNEL}
    token_env: SMS_HOOK_TOKEN_GRAFANA
    hmac_secret_env: SMS_HOOK_HMAC
  pd:
    pages: db-oncall
    channel: {CHANNEL}
    token_env: SMS_HOOK_TOKEN_PD
"""


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY + INTEGRATIONS)
    return path


@pytest.fixture(autouse=True)
def hook_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_HOOK_TOKEN_PROM", TOKEN)
    monkeypatch.setenv("SMS_HOOK_TOKEN_GRAFANA", TOKEN + "-g")
    monkeypatch.setenv("SMS_HOOK_TOKEN_PD", PD_TOKEN)
    monkeypatch.setenv("SMS_HOOK_HMAC", HMAC_SECRET)


def am_payload(
    status: str = "firing",
    *,
    group_key: str = '{}:{alertname="DBDown"}',
    summary: str = "DB down",
    severity: str = "critical",
) -> dict[str, Any]:
    """Alertmanager's webhook ``version: "4"`` (alerts.md, 2.1)."""
    alert = {
        "status": status,
        "labels": {"alertname": "DBDown", "severity": severity, "instance": "prod"},
        "annotations": {
            "summary": summary,
            "runbook_url": "https://runbooks.example.com/db",
        },
        "startsAt": "2026-12-05T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=up",
        "fingerprint": "c0ffee",
    }
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "sms-bot",
        "groupLabels": {"alertname": "DBDown"},
        "commonLabels": {"alertname": "DBDown", "severity": severity},
        "commonAnnotations": {"summary": summary},
        "externalURL": "http://alertmanager.example.com",
        "alerts": [alert],
    }


def grafana_payload(status: str = "firing") -> dict[str, Any]:
    """Grafana's webhook contact point: Alertmanager's shape plus version 1, title,
    state and message, and per-alert silenceURL/dashboardURL."""
    body = am_payload(status, group_key='{}/{}:{alertname="CPU"}', summary="CPU hot")
    body.update(
        version="1",
        orgId=1,
        title="[FIRING:1] CPU hot",
        state="alerting" if status == "firing" else "ok",
        message="CPU hot on prod",
    )
    body["alerts"][0].update(
        silenceURL="https://grafana.example.com/alerting/silence/new",
        dashboardURL="https://grafana.example.com/d/abc",
        values={"A": 97},
    )
    return body


def pd_event(action: str = "trigger", dedup_key: str | None = "db-1") -> dict[str, Any]:
    """PagerDuty Events API v2 (alerts.md, 2.1)."""
    event: dict[str, Any] = {"routing_key": PD_TOKEN, "event_action": action}
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    if action == "trigger":
        event["payload"] = {
            "summary": "Disk full on db-1",
            "source": "db-1",
            "severity": "critical",
        }
    return event


Post = Callable[..., requests.Response]


def post_alert(
    harness: SlackHarness,
    body: dict[str, Any] | bytes,
    *,
    integration: str = "prometheus",
    token: str | None = TOKEN,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return requests.post(
        f"{harness.url}/hooks/alertmanager/{integration}",
        data=data,
        headers=sent,
        timeout=10,
    )


def post_event(
    harness: SlackHarness, body: dict[str, Any] | bytes
) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        f"{harness.url}/hooks/events/v2",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def grafana_signature(body: bytes, timestamp: str, secret: str = HMAC_SECRET) -> str:
    signed = timestamp.encode() + b":" + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def page_posts(harness: SlackHarness) -> list[dict[str, Any]]:
    return [
        call.args
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("channel") == CHANNEL
    ]


__all__ += ["FakeOctopush"]
