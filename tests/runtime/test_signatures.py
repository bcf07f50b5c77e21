"""Over HTTP every request to ``/slack/events`` is verified, whatever else is set.

``SLACK_APP_TOKEN`` left in the environment (from trying Socket Mode) used to turn the
signature check off in the app gunicorn serves: then anyone could post a slash command
as any allowed user and text any number. Here the app is built the way the HTTP entry
points build it, with an app token in the settings; the forged commands must get 401,
reach neither Octopush nor the audit trail, while a signed one still sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.config import Settings, SlackSettings
from bot.domain import AuditStatus
from bot.errors import SettingsError
from bot.runtime.slack_app import Stack, build_stack
from bot.runtime.web import create_wsgi_app
from tests.conftest import SENT, SIGNING_SECRET, SLACK_BOT_TOKEN, make_settings
from tests.fakes.slack import FakeSlack
from tests.fakes.wsgi import serve_wsgi
from tests.runtime.slack_forgery import (
    ALLOWED_USER,
    NUMBER,
    command_body,
    post_forgeries,
    post_signed,
)

SEND_PATH = "/v1/public/sms-campaign/send"
APP_TOKEN = "xapp-1-left-over-from-socket-mode"


def with_slack(settings: Settings, **slack: str) -> Settings:
    """``settings`` with these ``SLACK_*`` values instead (never read from .env)."""
    values = {"bot_token": SLACK_BOT_TOKEN, "api_url": settings.slack.api_url, **slack}
    replaced = SlackSettings(_env_file=None, **values)  # type: ignore[call-arg]
    return Settings(
        octopush=settings.octopush, slack=replaced, sms=settings.sms, app=settings.app
    )


@dataclass
class Served:
    url: str
    stack: Stack
    store: AuditStore


@pytest.fixture
def served_with_app_token(
    tmp_path: Path,
    fake_slack: FakeSlack,
    octopush_url: str,
    database_url: str,
) -> Iterator[Served]:
    """The HTTP app with ``SLACK_APP_TOKEN`` set too, served on 127.0.0.1."""
    base = make_settings(
        tmp_path,
        octopush_url=octopush_url,
        slack_url=fake_slack.api_url,
        database_url=database_url,
        allowed_users=ALLOWED_USER,
    )
    settings = with_slack(base, signing_secret=SIGNING_SECRET, app_token=APP_TOKEN)
    stack = build_stack(settings, transport="http")
    stack.updates.start()
    web = create_wsgi_app(stack.app, store=stack.service.store, inbound=stack.inbound)
    try:
        with serve_wsgi(web) as url:
            yield Served(url, stack, stack.service.store)
    finally:
        web.close()
        stack.executor.shutdown(wait=True)
        stack.stop_workers()
        stack.service.octopush.close()
        stack.service.store.close()


def sent_texts(httpserver: HTTPServer) -> list[str]:
    return [
        json.loads(request.get_data())["text"]
        for request, _ in httpserver.log
        if request.path == SEND_PATH
    ]


def test_forged_commands_get_401_and_text_nobody_with_an_app_token_set(
    served_with_app_token: Served, fake_slack: FakeSlack, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    events = f"{served_with_app_token.url}/slack/events"
    hook = fake_slack.webhook_url("command")
    forged = command_body(f"{NUMBER} forged", response_url=hook)
    statuses = post_forgeries(events, SIGNING_SECRET, forged)
    assert statuses == {"unsigned": 401, "wrongly signed": 401, "stale": 401}

    # The same command, signed: it sends (so the forged ones were refused, not broken).
    control = command_body(f"{NUMBER} control", response_url=hook)
    assert post_signed(events, SIGNING_SECRET, control).status_code == 200
    served_with_app_token.stack.executor.shutdown(wait=True)  # every send finished

    assert sent_texts(httpserver) == ["control"]
    records = served_with_app_token.store.recent(limit=10)
    assert [(r.text, r.status) for r in records] == [("control", AuditStatus.SENT)]
    assert len(fake_slack.calls("chat.postMessage")) == 1  # the control's result


def test_the_http_app_needs_the_signing_secret_even_with_an_app_token(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    base = make_settings(tmp_path, slack_url=fake_slack.api_url)
    settings = with_slack(base, app_token=APP_TOKEN)
    with pytest.raises(SettingsError) as raised:
        build_stack(settings, transport="http")
    (problem,) = raised.value.problems
    assert problem.startswith("SLACK_SIGNING_SECRET: missing")
    assert APP_TOKEN not in str(raised.value)
    assert not fake_slack.methods()  # stopped before anything was built


def test_socket_mode_needs_the_app_token(tmp_path: Path, fake_slack: FakeSlack) -> None:
    base = make_settings(tmp_path, slack_url=fake_slack.api_url)
    with pytest.raises(SettingsError) as raised:
        build_stack(base, transport="socket")
    (problem,) = raised.value.problems
    assert problem.startswith("SLACK_APP_TOKEN: missing")
