"""*Fire an alert*: the playground plays Prometheus Alertmanager.

It POSTs a sample Alertmanager webhook (payload ``version: "4"``, firing, then resolved)
to the app's own ``/hooks/alertmanager/<integration>`` over HTTP, with the integration's
Bearer token, exactly as Alertmanager would; the page then shows what the app made of it.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from typing import Any

import requests

#: The sample directory's integration (``integrations:`` in workspace.DIRECTORY_YAML).
INTEGRATION = "playground"
TOKEN_ENV = "SMS_HOOK_TOKEN_PLAYGROUND"
RECEIVER = "sms-bot"
ALERT_NAME = "DatabaseDown"
SUMMARY = "Database db-1 is not answering"
#: What Alertmanager sends as a firing alert's ``endsAt``: no end known yet.
NO_END = "0001-01-01T00:00:00Z"
STATUSES = ("firing", "resolved")


class AlertError(ValueError):
    """The page asked for something other than firing or resolving; its text is shown."""


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sample_payload(status: str, *, started: datetime, now: datetime) -> dict[str, Any]:
    """The webhook Alertmanager sends for one group of one alert, firing or resolved."""
    labels = {
        "alertname": ALERT_NAME,
        "severity": "critical",
        "env": "prod",
        "instance": "db-1:5432",
    }
    annotations = {
        "summary": SUMMARY,
        "runbook_url": "https://runbooks.example.com/database-down",
    }
    fingerprint = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:16]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{ALERT_NAME}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": RECEIVER,
        "groupLabels": {"alertname": ALERT_NAME},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.example.com:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": _stamp(started),
                "endsAt": NO_END if status == "firing" else _stamp(now),
                "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up",
                "fingerprint": fingerprint,
            }
        ],
    }


class AlertFirer:
    """Sends the sample alert to ``hook_url`` with ``token``; keeps when it began, so
    repeats and the resolve name the same alert (Alertmanager's ``startsAt``), and a
    firing after a resolve is a new one."""

    def __init__(self, hook_url: str, token: str) -> None:
        self.hook_url = hook_url
        self._token = token
        self._lock = threading.Lock()
        self._started: datetime | None = None

    def send(self, status: str) -> dict[str, Any]:
        """POST the payload; answer the app's HTTP status and body for the page."""
        if status not in STATUSES:
            raise AlertError("an alert is either firing or resolved")
        now = datetime.now(UTC)
        with self._lock:
            started = self._started or now
            self._started = started if status == "firing" else None
        answer = requests.post(
            self.hook_url,
            json=sample_payload(status, started=started, now=now),
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
        )
        return {"status": answer.status_code, "answer": answer.text[:500]}
