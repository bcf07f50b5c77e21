"""Issue 20, item 7: alert events on /metrics, and in ``sms-bot audit alerts``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.alerts.conftest import FakeOctopush, am_payload, post_alert
from tests.conftest import SlackHarness
from tests.runtime.test_metrics import TOKEN, Samples, samples

Start = Callable[..., SlackHarness]
REPO = Path(__file__).resolve().parents[2]


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_alert_events_and_their_pages_are_counted_on_metrics(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start(metrics_token=TOKEN)
    before = samples(harness)
    for status in ("firing", "firing", "resolved"):
        post_alert(harness, am_payload(status))
        harness.settle()
    post_alert(harness, am_payload(), token="wrong")
    after = samples(harness)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    events = "smsbot_alert_events_total"
    assert grew(events, integration="prometheus", outcome="stored") == 3
    assert grew(events, integration="prometheus", outcome="unauthorized") == 1
    for outcome in ("opened", "deduplicated", "resolved"):
        assert grew(events, integration="prometheus", outcome=outcome) == 1
        assert grew("smsbot_alert_pages_total", outcome=outcome) == 1


def test_sms_bot_audit_alerts_shows_the_integration_and_the_dedup_key(
    start: Start, octopush: FakeOctopush, database_url: str, tmp_path: Path
) -> None:
    harness = start()
    post_alert(harness, am_payload())
    harness.settle()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "LC_"))
    }
    env.update(DATABASE_URL=database_url, LANG="C", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "alerts", "--format", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [event] = json.loads(done.stdout)
    assert event["integration"] == "prometheus"
    assert event["outcome"] == "opened"
    assert len(event["dedup_key"]) == 64  # sha256(receiver + groupKey)
    table = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "alerts"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "prometheus" in table.stdout and event["dedup_key"][:15] in table.stdout
