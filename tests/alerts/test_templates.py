"""Issue 20, item 4: the integration's SMS template for SMS_LANGUAGE."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.alerts.conftest import FakeOctopush, am_payload, post_alert
from tests.alerts.test_hooks import page_rows
from tests.conftest import SlackHarness
from tests.paging.conftest import DIRECTORY

TEMPLATED = """\
integrations:
  prometheus:
    pages: db-oncall
    channel: C0OPS
    token_env: SMS_HOOK_TOKEN_PROM
    templates:
      en: "{severity}: {summary} on {source}"
      fr: "{severity} : {summary} sur {source}"
"""


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yml"
    path.write_text(DIRECTORY + TEMPLATED)
    return path


@pytest.mark.parametrize(
    ("language", "body", "reply"),
    [
        ("en", "critical: DB down on prod.", "Reply ACK"),
        ("fr", "critical : DB down sur prod.", "ACK"),
    ],
)
def test_the_page_sms_follows_the_template_of_sms_language(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    language: str,
    body: str,
    reply: str,
) -> None:
    harness = start(language=language)
    post_alert(harness, am_payload())
    harness.settle()
    [page] = page_rows(harness)
    text = octopush.bodies[0]["text"]
    assert text.startswith(f"[sms-bot #{page['id']}] {body} ")
    assert reply in text
