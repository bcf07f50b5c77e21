"""Issue 20, item 2: PagerDuty Events v2 and Grafana's webhook (recorded shapes)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from tests.alerts.conftest import (
    TOKEN,
    FakeOctopush,
    grafana_payload,
    grafana_signature,
    pd_event,
    post_alert,
    post_event,
)
from tests.alerts.test_hooks import page_rows, stored_events
from tests.conftest import SlackHarness

Start = Callable[..., SlackHarness]
GRAFANA_TOKEN = TOKEN + "-g"


def test_events_v2_trigger_answers_202_with_the_dedup_key_and_resolve_closes(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    answer = post_event(harness, pd_event())
    assert answer.status_code == 202
    assert answer.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "db-1",
    }
    harness.settle()
    assert len(octopush.bodies) == 1
    assert (
        "Disk full on db-1 (db-1, critical), paged by Events API."
        in (octopush.bodies[0]["text"])
    )
    assert post_event(harness, pd_event()).status_code == 202  # same key: no page
    harness.settle()
    assert len(octopush.bodies) == 1
    assert post_event(harness, pd_event("resolve")).status_code == 202
    harness.settle()
    [page] = page_rows(harness)
    assert page["state"] == "resolved"
    assert [e["integration"] for e in stored_events(harness)] == ["pd"] * 3


def test_events_v2_acknowledge_acknowledges_the_page(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    post_event(harness, pd_event())
    harness.settle()
    post_event(harness, pd_event("acknowledge"))
    harness.settle()
    [page] = page_rows(harness)
    assert page["state"] == "acknowledged"
    assert page["acknowledged_by"] == "Events API"


def test_events_v2_trigger_without_a_dedup_key_opens_a_new_page_each_time(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    keys = {
        post_event(harness, pd_event(dedup_key=None)).json()["dedup_key"]
        for _ in range(2)
    }
    harness.settle()
    assert len(keys) == 2
    assert len(page_rows(harness)) == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**pd_event(), "routing_key": "not-a-known-key"}, 401),
        ({**pd_event(), "event_action": "explode"}, 400),
        ({k: v for k, v in pd_event().items() if k != "payload"}, 400),
        (pd_event("resolve", dedup_key=None), 400),
    ],
)
def test_events_v2_refusals(
    start: Start, octopush: FakeOctopush, body: dict[str, object], status: int
) -> None:
    harness = start()
    answer = post_event(harness, json.dumps(body).encode())
    assert answer.status_code == status
    assert "R0UT1NGKEY" not in answer.text
    assert stored_events(harness) == []


def test_grafana_signed_payload_pages_and_resolves(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    body = json.dumps(grafana_payload()).encode()
    stamp = str(int(time.time()))
    headers = {
        "X-Grafana-Alerting-Signature": grafana_signature(body, stamp),
        "X-Grafana-Alerting-Timestamp": stamp,
    }
    answer = post_alert(
        harness, body, integration="grafana", token=GRAFANA_TOKEN, headers=headers
    )
    assert answer.status_code == 200
    harness.settle()
    assert "CPU hot" in octopush.bodies[0]["text"]
    posted = json.dumps(harness.slack.calls("chat.postMessage")[0].args["blocks"])
    assert "https://grafana.example.com/alerting/silence/new" in posted
    assert "https://grafana.example.com/d/abc" in posted


@pytest.mark.parametrize("case", ["missing", "wrong", "stale"])
def test_grafana_without_a_good_signature_is_401(
    start: Start, octopush: FakeOctopush, case: str
) -> None:
    harness = start()
    body = json.dumps(grafana_payload()).encode()
    stamp = str(int(time.time()) - (400 if case == "stale" else 0))
    headers = {
        "missing": {},
        "wrong": {
            "X-Grafana-Alerting-Signature": grafana_signature(body, stamp, "nope"),
            "X-Grafana-Alerting-Timestamp": stamp,
        },
        "stale": {
            "X-Grafana-Alerting-Signature": grafana_signature(body, stamp),
            "X-Grafana-Alerting-Timestamp": stamp,
        },
    }[case]
    answer = post_alert(
        harness, body, integration="grafana", token=GRAFANA_TOKEN, headers=headers
    )
    assert answer.status_code == 401
    assert stored_events(harness) == []


def test_an_acknowledge_for_no_open_alert_is_dropped_and_a_later_trigger_pages(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    assert post_event(harness, pd_event("acknowledge")).status_code == 202
    harness.settle()
    assert stored_events(harness)[-1]["outcome"] == "no-page"
    post_event(harness, pd_event())
    harness.settle()
    assert len(octopush.bodies) == 1
    assert stored_events(harness)[-1]["outcome"] == "opened"
