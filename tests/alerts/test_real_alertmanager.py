"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) notifying a
webhook: what it sends, with which token, when it repeats, and what it retries.

Skipped when the binary is absent, unless ``REQUIRE_ALERTMANAGER_TESTS=1`` (``.ci/run``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.audit.pages import PageLifeStore, PageState
from tests.alerts.alertmanager import (
    Alertmanager,
    alert,
    alertmanager_binary,
    config_yaml,
    running_alertmanager,
    wait_until,
    webhook_sink,
)
from tests.alerts.db_proxy import db_proxy
from tests.alerts.served_bot import (
    CHANNEL,
    INTEGRATION,
    PHONES,
    TOKEN,
    Gateway,
    gateway_on,
    start_bot,
)
from tests.conftest import _drop_audit_tables
from tests.fakes.slack import FakeSlack
from tests.runtime.served import Server

SINK_TOKEN = "am-token-3f9c2e"


@pytest.fixture(autouse=True)
def _alertmanager_installed() -> None:
    """Skip (or fail in CI) before starting anything else."""
    alertmanager_binary()


def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "sms-bot.token"
    path.write_text(SINK_TOKEN + "\n")
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
            assert first.authorization == f"Bearer {SINK_TOKEN}"
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
            assert resolved[0].authorization == f"Bearer {SINK_TOKEN}"


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


# --- Alertmanager notifying ``sms-bot serve`` -------------------------------------------


@pytest.fixture
def bot(
    tmp_path: Path,
    database_url: str,
    fake_slack: FakeSlack,
    httpserver: HTTPServer,
) -> Iterator[tuple[Server, Gateway]]:
    gateway = gateway_on(httpserver)
    server = start_bot(
        tmp_path, database=database_url, slack=fake_slack, octopush=httpserver
    )
    try:
        yield server, gateway
    finally:
        server.stop()


def bot_config(server: Server, tmp_path: Path, token: str = TOKEN, **kw: str) -> str:
    path = tmp_path / "bot.token"
    path.write_text(token + "\n")
    hook = f"{server.url}/hooks/alertmanager/{INTEGRATION}"
    return config_yaml(url=hook, credentials_file=path, **kw)


def successes(manager: Alertmanager) -> int:
    """Notifications the app answered 2xx (Alertmanager logs each at debug)."""
    return len(manager.log_lines("Notify success"))


def test_one_page_per_group_no_second_on_repeats_and_the_resolve_texts_resolved(
    tmp_path: Path,
    bot: tuple[Server, Gateway],
    fake_slack: FakeSlack,
    database_url: str,
) -> None:
    server, gateway = bot
    config = bot_config(server, tmp_path)
    with running_alertmanager(tmp_path / "am", config) as manager:
        manager.post(
            alert("DbDown", firing=True, instance="db1", summary="DB down"),
            alert("DbDown", firing=True, instance="db2", summary="DB down"),
        )
        (page,) = wait_until(
            gateway.texts, timeout=30, what="the page's SMS", log=server.log
        )
        assert len(page.numbers) == 1
        assert page.numbers[0] in PHONES.values()
        assert "DB down" in page.text
        posts = fake_slack.wait_for("chat.postMessage", timeout=15)
        assert [p.args.get("channel") for p in posts] == [CHANNEL]

        # Alertmanager repeats the group (repeat_interval): wait until a repeat
        # reached the app and the app acted on it (the post is updated).
        first = successes(manager)
        wait_until(
            lambda: successes(manager) > first,
            timeout=20,
            what="Alertmanager's repeat to reach the app",
            log=manager.log,
        )
        fake_slack.wait_for("chat.update", timeout=15)
        assert gateway.texts() == [page]  # never paged again
        assert len(fake_slack.calls("chat.postMessage")) == 1

        manager.post(
            alert("DbDown", firing=False, instance="db1"),
            alert("DbDown", firing=False, instance="db2"),
        )
        texts = wait_until(
            lambda: [s for s in gateway.texts() if "RESOLVED" in s.text],
            timeout=30,
            what="the RESOLVED SMS",
            log=server.log,
        )
        assert [s.numbers for s in texts] == [page.numbers]
        assert len(gateway.texts()) == 2
    # One page for the group, and the resolve closed it.
    store = AuditStore.from_url(database_url)
    try:
        pages = PageLifeStore(store)
        (closed,) = [p for p in (pages.find(1), pages.find(2)) if p is not None]
        assert closed.state == PageState.RESOLVED
    finally:
        store.close()


def test_a_wrong_token_gets_401_and_alertmanager_does_not_retry(
    tmp_path: Path, bot: tuple[Server, Gateway], fake_slack: FakeSlack
) -> None:
    server, gateway = bot
    config = bot_config(
        server,
        tmp_path,
        token="not-the-token",
        group_interval="5m",
        repeat_interval="5m",
    )
    with running_alertmanager(tmp_path / "am", config) as manager:
        manager.post(alert("DbDown", firing=True))
        (failed,) = wait_until(
            lambda: manager.log_lines("Notify for alerts failed"),
            timeout=20,
            what="Alertmanager to give up",
            log=manager.log,
        )
        assert "unexpected status code 401" in failed
        assert "after 1 attempts" in failed
    # The 401 was answered before anything was stored: nothing can follow it.
    assert gateway.texts() == []
    assert fake_slack.calls("chat.postMessage") == []
    assert "not-the-token" not in server.log.read_text()


@pytest.mark.postgres
def test_a_database_outage_is_answered_5xx_and_retried_until_it_lands(
    tmp_path: Path, postgres_url: str, fake_slack: FakeSlack, httpserver: HTTPServer
) -> None:
    gateway = gateway_on(httpserver)
    _drop_audit_tables(postgres_url)
    with db_proxy(postgres_url) as proxy:
        server = start_bot(
            tmp_path,
            database=proxy.url_for(postgres_url),
            slack=fake_slack,
            octopush=httpserver,
        )
        try:
            config = bot_config(server, tmp_path, repeat_interval="5m")
            with running_alertmanager(tmp_path / "am", config) as manager:
                proxy.cut()  # the database goes away
                manager.post(alert("DbDown", firing=True, summary="DB down"))
                (refused, *_) = wait_until(
                    lambda: manager.log_lines("Notify attempt failed"),
                    timeout=20,
                    what="the app to answer 5xx",
                    log=manager.log,
                )
                status = refused.split("unexpected status code ", 1)[1][:3]
                assert status.startswith("5"), refused
                proxy.heal()
                (page,) = wait_until(
                    gateway.texts, timeout=40, what="the page's SMS", log=server.log
                )
                assert "DB down" in page.text
                assert successes(manager) == 1
        finally:
            server.stop()
    _drop_audit_tables(postgres_url)
