"""Fixtures shared by the service, CLI and Slack tests: settings, a store, fakes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.config import (
    AppSettings,
    OctopushSettings,
    Settings,
    SlackSettings,
    SmsSettings,
)
from bot.octopush import OctopushClient
from bot.service import SmsService
from bot.wiring import send_defaults
from tests.fakes.slack import FakeSlack

OCTOPUSH_KEY = "octo-key-SECRET-42"
SLACK_BOT_TOKEN = "xoxb-1-SECRET-bot-token"
SIGNING_SECRET = "signing-SECRET-0123456789"

SENT = {
    "sms_ticket": "sms_5fec89fe97109",
    "number_of_contacts": 1,
    "total_cost": 0.0333,
    "number_of_sms_needed": 1,
    "residual_credit": 99.5,
}


def make_settings(
    tmp_path: Path,
    *,
    octopush_url: str = "http://127.0.0.1:9/v1/public",
    slack_url: str = "http://127.0.0.1:9/api/",
    **sms: Any,
) -> Settings:
    """Explicit settings that never read the developer's environment or .env."""
    return Settings(
        octopush=OctopushSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_login="ops@example.com",
            api_key=OCTOPUSH_KEY,
            base_url=octopush_url,
        ),
        slack=SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SLACK_BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=slack_url,
        ),
        sms=SmsSettings(_env_file=None, **sms),  # type: ignore[call-arg]
        app=AppSettings(_env_file=None, database_url=f"sqlite:///{tmp_path}/audit.db"),  # type: ignore[call-arg]
    )


@pytest.fixture
def octopush_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("/v1/public")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    audit = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    yield audit
    audit.close()


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
