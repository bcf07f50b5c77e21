"""Fixtures shared by the tests: settings, databases, a store, fakes of Slack and Octopush.

``database_url`` runs a test on SQLite and, when ``TEST_DATABASE_URL`` points at a
PostgreSQL server that answers, on PostgreSQL too (its tables are dropped before and
after each test); without one those runs skip, saying why.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from slack_sdk.signature import SignatureVerifier

from bot.audit import AuditStore
from bot.audit.tables import alert_events, callback_inbox
from bot.config import (
    AppSettings,
    OctopushSettings,
    Settings,
    SlackSettings,
    SmsSettings,
)
from bot.i18n import set_default_language
from bot.octopush import OctopushClient
from bot.runtime.slack_app import Stack, build_stack
from bot.runtime.web import WebApp, create_wsgi_app
from bot.runtime.wiring import send_defaults
from bot.sending.service import SmsService
from tests.fakes.idle import wait_until_idle
from tests.fakes.slack import FakeSlack
from tests.fakes.wsgi import serve_wsgi

OCTOPUSH_KEY = "octo-key-SECRET-42"
SLACK_BOT_TOKEN = "xoxb-1-SECRET-bot-token"
SIGNING_SECRET = "signing-SECRET-0123456789"
CALLBACK_TOKEN = "callback-SECRET-token-9876"

SENT = {
    "sms_ticket": "sms_5fec89fe97109",
    "number_of_contacts": 1,
    "total_cost": 0.0333,
    "number_of_sms_needed": 1,
    "residual_credit": 99.5,
}


def _drop_audit_tables(url: str) -> None:
    """Drop every table of the test database (whatever the schema version left)."""
    engine = sa.create_engine(url)
    try:
        existing = sa.MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """A stack built with SMS_LANGUAGE=fr sets the process default; undo it per test."""
    set_default_language("en")
    yield
    set_default_language("en")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """``TEST_DATABASE_URL`` when it is set and answers within a few seconds."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "skip", saying why
        shown = sa.make_url(url).render_as_string(hide_password=True)
        pytest.skip(f"TEST_DATABASE_URL ({shown}) is unreachable: {type(exc).__name__}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or PostgreSQL without audit tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/audit.db"
        return
    url: str = request.getfixturevalue("postgres_url")
    _drop_audit_tables(url)
    yield url
    _drop_audit_tables(url)


def make_settings(
    tmp_path: Path,
    *,
    octopush_url: str = "http://127.0.0.1:9/v1/public",
    slack_url: str = "http://127.0.0.1:9/api/",
    database_url: str | None = None,
    **sms: Any,
) -> Settings:
    """Explicit settings that never read the developer's environment or .env."""
    database_url = database_url or f"sqlite:///{tmp_path}/audit.db"
    # In-process apps run their stored commands on the listener pool, so a test that
    # drains the listener pool has seen the send (the sender process has its tests).
    sms.setdefault("sender", "inline")
    return Settings(
        octopush=OctopushSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_login="ops@example.com",
            api_key=OCTOPUSH_KEY,
            base_url=octopush_url,
            callback_token=CALLBACK_TOKEN,
        ),
        slack=SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SLACK_BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=slack_url,
        ),
        sms=SmsSettings(_env_file=None, **sms),  # type: ignore[call-arg]
        app=AppSettings(_env_file=None, database_url=database_url),  # type: ignore[call-arg]
    )


@pytest.fixture
def octopush_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/v1/public")


def wait_for_requests(
    httpserver: HTTPServer, count: int, *, timeout: float = 10.0
) -> None:
    """Wait until the test server has answered ``count`` requests (its log).

    pytest-httpserver answers one request at a time and logs a request once its
    handler returned. A slow handler still busy with an answer the client gave up on
    would hold back the next test's requests and land in its log: a test that makes
    one waits for it here, never after a fixed sleep.
    """
    deadline = time.monotonic() + timeout
    while len(httpserver.log) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the test server answered {len(httpserver.log)} of {count} "
                f"request(s) in {timeout} s"
            )
        time.sleep(0.01)


T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    timeout: float = 5.0,
    *,
    what: str = "the condition",
    interval: float = 0.01,
) -> T:
    """Call ``check`` until it returns something truthy, and return that; fail after
    ``timeout`` seconds saying ``what`` was waited for. Never a fixed sleep: a test that
    expects something to happen waits for it here, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


#: What a child process of a race test prints once it is ready (imported, connected
#: to its database) and waits for ``go`` on its stdin.
READY = "ready"


def go_together(
    processes: list[subprocess.Popen[str]], *, timeout: float = 60.0
) -> None:
    """Write ``go`` to every process at once, after each one printed ``READY``.

    Only the ready line is read (byte by byte, from the pipe itself): what a process
    prints after ``go`` stays for ``communicate()``. A process that exits or stays
    silent fails the test, and every process is killed.
    """
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            assert process.stdout is not None
            fd = process.stdout.fileno()
            line = b""
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                readable, _, _ = select.select([fd], [], [], max(left, 0.0))
                if not readable:
                    raise AssertionError(
                        f"process {process.pid} was not ready within {timeout} s"
                    )
                byte = os.read(fd, 1)
                if not byte:
                    raise AssertionError(
                        f"process {process.pid} exited before it was ready"
                    )
                line += byte
            assert line.decode().strip() == READY, line
    except BaseException as failure:
        for process in processes:
            if process.poll() is None:
                process.kill()
            _, err = process.communicate(timeout=10)
            if err:
                failure.add_note(f"process {process.pid} said: {err[-2000:]}")
        raise
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[AuditStore]:
    """A SQLite audit trail in the test's own directory."""
    audit = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    yield audit
    audit.close()


@pytest.fixture
def store(sqlite_store: AuditStore) -> AuditStore:
    return sqlite_store


@pytest.fixture
def service(
    tmp_path: Path, octopush_url: str, store: AuditStore
) -> Iterator[SmsService]:
    settings = make_settings(tmp_path, octopush_url=octopush_url)
    client = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=octopush_url,
        timeout=(0.5, 0.5),
        backoff=0,
    )
    yield SmsService(octopush=client, store=store, defaults=send_defaults(settings))
    client.close()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack().start()
    yield slack
    slack.stop()


class FakeClock:
    """A clock seam (the pager's): time moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


ALICE = {"phone": "+33 6 12 34 56 78", "real_name": "Alice"}
NO_PHONE = {"phone": "", "real_name": "Bob"}


def due_callbacks(store: AuditStore, table: sa.Table = callback_inbox) -> int:
    """Stored callbacks (or alert events) not handled yet that a worker may claim now."""
    t = table
    query = sa.select(sa.func.count()).where(
        t.c.processed_at.is_(None),
        sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until <= store.now()),
    )
    with store.transaction("count due callbacks") as conn:
        return int(conn.execute(query).scalar_one())


@dataclass
class SlackHarness:
    """Signs and POSTs what Slack would send; exposes what the fakes received."""

    url: str
    slack: FakeSlack
    store: AuditStore
    settings: Settings
    service: SmsService
    stack: Stack
    #: The WSGI app and its callback inbox worker (``web.close()`` stops the worker).
    web: WebApp | None = None

    def settle(self, *, timeout: float = 15.0) -> None:
        """Wait until every send, due callback and post update has finished.

        A callback postponed for a retry (its handling failed) is not due yet, and one
        whose worker died keeps its claim until the lease ends: neither is waited for.
        """
        checks = {
            "lazy listeners": self.stack.executor.idle,
            "chat.update queue": self.stack.updates.idle,
        }
        if self.stack.sender is not None:
            checks["stored commands"] = self.stack.sender.idle
        if self.stack.home is not None:
            checks["App Home publishes"] = self.stack.home.publisher.idle
        worker = self.web.worker if self.web is not None else None
        if worker is not None:
            checks["callback inbox"] = lambda: (
                worker.idle() and not due_callbacks(self.store)
            )
        alerts = self.web.alert_worker if self.web is not None else None
        if alerts is not None:
            checks["alert inbox"] = lambda: (
                alerts.idle() and not due_callbacks(self.store, alert_events)
            )
        wait_until_idle(checks, timeout=timeout)

    def callback(
        self,
        body: bytes | str,
        *,
        content_type: str = "application/json",
        token: str = CALLBACK_TOKEN,
    ) -> requests.Response:
        """POST an Octopush callback to ``/octopush/callback/<token>``."""
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type}
        return requests.post(
            f"{self.url}/octopush/callback/{token}",
            data=data,
            headers=headers,
            timeout=10,
        )

    def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
    ) -> requests.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(
            timestamp=ts, body=body
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        return requests.post(
            f"{self.url}/slack/events", data=body.encode(), headers=headers, timeout=10
        )

    def command(
        self,
        text: str,
        *,
        user: str = "U1",
        channel: str = "C1",
        trigger: str = "trigger-1",
        **kwargs: Any,
    ) -> requests.Response:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": "ops",
                "user_id": user,
                "user_name": "someone",
                "command": "/sms",
                "text": text,
                "api_app_id": "A1",
                "response_url": self.slack.webhook_url("command"),
                "trigger_id": trigger,
            }
        )
        return self.post(
            body, content_type="application/x-www-form-urlencoded", **kwargs
        )

    def interact(self, payload: dict[str, Any]) -> requests.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, content_type="application/x-www-form-urlencoded")

    def webhooks(self, count: int = 1) -> list[dict[str, Any]]:
        return [call.args for call in self.slack.wait_for("webhook/command", count)]


@pytest.fixture
def make_harness(
    tmp_path: Path, fake_slack: FakeSlack, octopush_url: str
) -> Iterator[Callable[..., SlackHarness]]:
    """Start the real app (``build_stack``) with ``SMS_*`` settings given as keywords.

    Only the Octopush client is swapped for one with short timeouts and no backoff.
    """
    fake_slack.state.profiles = {"UALICE": ALICE, "UBOB": NO_PHONE}
    with ExitStack() as stack:

        def make(database_url: str | None = None, **sms: Any) -> SlackHarness:
            settings = make_settings(
                tmp_path,
                octopush_url=octopush_url,
                slack_url=fake_slack.api_url,
                database_url=database_url,
                **sms,
            )
            built = build_stack(settings)
            stack.callback(built.escalations.stop)
            app, service = built.app, built.service
            service.octopush.close()
            service.octopush = OctopushClient(
                api_login="ops@example.com",
                api_key=OCTOPUSH_KEY,
                base_url=octopush_url,
                timeout=(0.5, 3.0),
                backoff=0,
            )
            stack.callback(service.octopush.close)
            stack.callback(service.store.close)
            if (
                built.sender is not None
                and built.sender.queue.store is not service.store
            ):
                stack.callback(built.sender.queue.close)
            built.updates.start()
            stack.callback(built.updates.stop)
            if built.home is not None:  # its publisher starts on the first publish
                stack.callback(built.home.stop)
            # Runs first (last in, first out): let sends in flight finish before closing.
            stack.callback(built.executor.shutdown, wait=True)
            wsgi = create_wsgi_app(
                app,
                store=service.store,
                inbound=built.inbound,
                callback_token=CALLBACK_TOKEN,
                alerts=built.alerts,
                commands=built.sender.queue if built.sender is not None else None,
                metrics_token=(
                    settings.sms.metrics_token.get_secret_value()
                    if settings.sms.metrics_token
                    else None
                ),
            )
            stack.callback(wsgi.close)  # before the store closes (last in, first out)
            url = stack.enter_context(serve_wsgi(wsgi))
            return SlackHarness(
                url=url,
                slack=fake_slack,
                store=service.store,
                settings=settings,
                service=service,
                stack=built,
                web=wsgi,
            )

        yield make


@pytest.fixture
def harness(make_harness: Callable[..., SlackHarness]) -> SlackHarness:
    """The app with default policy settings."""
    return make_harness()


@pytest.fixture
def env(tmp_path: Path, httpserver: HTTPServer) -> dict[str, str]:
    # No locale variables either: the CLI would speak the developer's language.
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OCTOPUSH_", "SLACK_", "SMS_", "LC_"))
        and k not in ("LANG", "LANGUAGE")
    }
    clean.pop("DATABASE_URL", None)
    clean.update(
        OCTOPUSH_API_LOGIN="ops@example.com",
        OCTOPUSH_API_KEY=OCTOPUSH_KEY,
        OCTOPUSH_BASE_URL=httpserver.url_for("/v1/public"),
        DATABASE_URL=f"sqlite:///{tmp_path}/audit.db",
    )
    return clean
