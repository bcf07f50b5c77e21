"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) notifying a
webhook: what it sends, with which token, when it repeats, and what it retries.

Skipped when the binary is absent, unless ``REQUIRE_ALERTMANAGER_TESTS=1`` (``.ci/run``)."""

from __future__ import annotations

from pathlib import Path

from tests.alerts.alertmanager import (
    alert,
    config_yaml,
    running_alertmanager,
    wait_until,
    webhook_sink,
)

TOKEN = "am-token-3f9c2e"


def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "sms-bot.token"
    path.write_text(TOKEN + "\n")
    return path


def test_a_group_is_sent_with_the_bearer_token_repeated_then_resolved(
    tmp_path: Path,
) -> None:
    with webhook_sink() as (sink, url):
        config = config_yaml(url=f"{url}/hook", credentials_file=token_file(tmp_path))
        with running_alertmanager(tmp_path / "am", config) as manager:
            manager.post(
                alert("DiskFull", firing=True, instance="db1"),
                alert("DiskFull", firing=True, instance="db2"),
            )
            # The repeat (repeat_interval) reaches the receiver: same group, same key.
            wait_until(
                lambda: len(sink.seen()) >= 2,
                timeout=20,
                what="the group's repeat",
                log=manager.log,
            )
            first, repeat = sink.seen()[:2]
            assert first.authorization == f"Bearer {TOKEN}"
            assert first.body["version"] == "4"
            assert first.body["receiver"] == "sms-bot"
            assert first.body["status"] == "firing"
            assert len(first.body["alerts"]) == 2
            assert repeat.body["groupKey"] == first.body["groupKey"]
            assert repeat.body["status"] == "firing"

            manager.post(
                alert("DiskFull", firing=False, instance="db1"),
                alert("DiskFull", firing=False, instance="db2"),
            )
            resolved = wait_until(
                lambda: [d for d in sink.seen() if d.body["status"] == "resolved"],
                timeout=20,
                what="the resolved notification",
                log=manager.log,
            )
            assert resolved[0].body["groupKey"] == first.body["groupKey"]
            assert resolved[0].authorization == f"Bearer {TOKEN}"


def test_a_401_is_logged_and_not_retried(tmp_path: Path) -> None:
    with webhook_sink(statuses=[401]) as (sink, url):
        # A long group_interval: the next flush (a new notification, not a retry)
        # cannot come while the test looks.
        config = config_yaml(
            url=f"{url}/hook",
            credentials_file=token_file(tmp_path),
            group_interval="5m",
            repeat_interval="5m",
        )
        with running_alertmanager(tmp_path / "am", config) as manager:
            manager.post(alert("DbDown", firing=True))
            failed = wait_until(
                lambda: manager.log_lines("Notify for alerts failed"),
                timeout=20,
                what="Alertmanager to give up",
                log=manager.log,
            )
            assert "401" in failed[0]
            assert "after 1 attempts" in failed[0]
            assert [d.status for d in sink.seen()] == [401]


def test_a_5xx_is_retried_until_it_lands(tmp_path: Path) -> None:
    with webhook_sink(statuses=[503, 503]) as (sink, url):
        config = config_yaml(
            url=f"{url}/hook",
            credentials_file=token_file(tmp_path),
            group_interval="5m",
            repeat_interval="5m",
        )
        with running_alertmanager(tmp_path / "am", config) as manager:
            manager.post(alert("DbDown", firing=True))
            wait_until(
                lambda: [d for d in sink.seen() if d.status == 200],
                timeout=30,
                what="the notification to land",
                log=manager.log,
            )
            assert [d.status for d in sink.seen()] == [503, 503, 200]
            keys = {d.body["groupKey"] for d in sink.seen()}
            assert len(keys) == 1
            wait_until(
                lambda: manager.log_lines("Notify success", "attempts=3"),
                timeout=10,
                what="Alertmanager to log the success",
                log=manager.log,
            )
            # It logs the first failure (and any new error), then retries quietly.
            assert manager.log_lines("Notify attempt failed, will retry later", "503")
