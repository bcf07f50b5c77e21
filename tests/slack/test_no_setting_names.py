"""A Slack user never reads a setting name: refusals say the rule in plain words.

Each scenario drives the real app over HTTP as a Slack user and collects everything the
app answered or sent to Slack (acks, ``response_url`` answers, posts, ephemeral posts,
opened and updated views). ``SMS_RATE_LIMIT`` and its kind are for admins: they stay in
the CLI, the logs and the audit trail (checked last).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer

from bot.domain import Actor, RateLimit, SendRequest, Source
from bot.errors import PolicyError
from bot.octopush.models import Purpose, SmsType
from bot.sending.policy import Policy, Usage, check_actor, check_request, rule_label
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import finished, wait_until
from tests.slack.listeners.test_forms import state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
MakeHarness = Callable[..., SlackHarness]

#: ``SMS_ALLOWED_USERS``, ``OCTOPUSH_API_KEY``, ``SLACK_BOT_TOKEN``…
SETTING_NAME = re.compile(r"\b(?:SMS|OCTOPUSH|SLACK)_[A-Z_]{3,}")

DIRECTORY = """\
people:
  alice: {phone: "+33612345678", slack: UALICE}
groups:
  db-oncall:
    members: [alice]
    rotation: weekly
    start: 2026-11-02T09:00:00+01:00
"""

#: Slack calls that carry what a person reads.
READ_METHODS = (
    "webhook/command",
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "views.open",
    "views.update",
    "views.push",
)


def shown(harness: SlackHarness, *acks: Any) -> list[Any]:
    calls = [
        call.args for method in READ_METHODS for call in harness.slack.calls(method)
    ]
    return [*acks, *calls]


def setting_names(payloads: list[Any]) -> list[str]:
    text = json.dumps(payloads, ensure_ascii=False)
    return sorted(set(SETTING_NAME.findall(text)))


def ack_of(response: requests.Response) -> Any:
    assert response.status_code == 200
    return response.json() if response.content else None


def answered(harness: SlackHarness, count: int) -> None:
    """Wait for ``count`` answers after the ack (lazy listeners run later)."""
    wait_until(lambda: sum(len(harness.slack.calls(m)) for m in READ_METHODS) >= count)


@pytest.fixture
def with_directory(make_harness: MakeHarness, tmp_path: Path) -> MakeHarness:
    def make(**sms: Any) -> SlackHarness:
        directory = tmp_path / "directory.yml"
        directory.write_text(DIRECTORY)
        return make_harness(directory=str(directory), **sms)

    return make


@pytest.fixture
def sent(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver


#: What the person types, the settings in force, how many answers come after the ack.
REFUSALS = [
    pytest.param("+33612345678 disk full", {"allowed_users": "U7"}, 0, id="user"),
    pytest.param("+33612345678 disk full", {"allowed_channels": "C9"}, 0, id="channel"),
    pytest.param(
        "+33612345678, +33698765432 disk full",
        {"max_recipients": 1},
        0,
        id="recipients",
    ),
    pytest.param(
        "+33612345678 disk full",
        {"blocked_numbers": "+33612345678"},
        0,
        id="blocked",
    ),
    pytest.param(
        "+33612345678, +33698765432 disk full",
        {"confirm_above": 1},
        0,
        id="confirm",
    ),
    pytest.param("help", {}, 0, id="help"),
    pytest.param(
        "oncall set db-oncall @alice for 4h", {"allowed_users": "U7"}, 1, id="override"
    ),
    pytest.param("oncall set db-oncall nobody for 4h", {}, 1, id="override-who"),
]


@pytest.mark.parametrize(("typed", "settings", "answers"), REFUSALS)
def test_a_refused_command_names_no_setting(
    with_directory: MakeHarness,
    sent: HTTPServer,
    typed: str,
    settings: dict[str, Any],
    answers: int,
) -> None:
    harness = with_directory(**settings)
    ack = ack_of(harness.command(typed))
    answered(harness, answers)
    payloads = shown(harness, ack)
    assert json.dumps(payloads) != "[null]"  # the person was told something
    assert setting_names(payloads) == []
    assert sent.log == []


def test_no_rotation_is_said_without_the_setting(make_harness: MakeHarness) -> None:
    harness = make_harness()
    ack = ack_of(harness.command("oncall"))
    answered(harness, 1)
    payloads = shown(harness, ack)
    assert "rotation" in json.dumps(payloads)
    assert setting_names(payloads) == []


def test_a_rate_limited_send_names_no_setting(
    make_harness: MakeHarness, sent: HTTPServer
) -> None:
    harness = make_harness(rate_limit="1/hour")
    harness.command("+33612345678 disk full", trigger="t-1")
    finished(harness)
    ack = ack_of(harness.command("+33612345678 disk full", trigger="t-2"))
    answered(harness, 2)
    payloads = shown(harness, ack)
    assert "1/hour" in json.dumps(payloads)
    assert setting_names(payloads) == []
    assert len(sent.log) == 1


def test_a_refused_form_names_no_setting(
    make_harness: MakeHarness, sent: HTTPServer
) -> None:
    harness = make_harness(blocked_numbers="+33612345678")
    body = harness.interact(submission(state())).json()
    assert body["response_action"] == "errors"
    assert "blocked" in json.dumps(body)
    assert setting_names([body]) == []
    assert sent.log == []


def test_octopush_refusing_the_credentials_is_said_without_settings(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 101, "message": "Invalid api-login or api-key"}, status=401
    )
    harness = make_harness()
    ack = ack_of(harness.command("+33612345678 disk full"))
    finished(harness)
    answered(harness, 1)
    payloads = shown(harness, ack)
    assert "admin" in json.dumps(payloads)
    assert setting_names(payloads) == []


POLICY_REFUSALS = [
    (Policy(allowed_users=frozenset({"U7"})), 1, Usage()),
    (Policy(allowed_channels=frozenset({"C7"})), 1, Usage()),
    (Policy(max_recipients=1), 2, Usage()),
    (Policy(blocked=("+336",)), 1, Usage()),
    (Policy(rate=RateLimit(1, 3600, "1/hour")), 1, Usage(sends_in_window=1)),
    (Policy(daily_budget=1.0), 1, Usage(spent_today=2.0, estimated_cost=0.1)),
    (Policy(daily_budget=1.0), 1, Usage(spent_today=2.0)),
]


@pytest.mark.parametrize(("policy", "count", "usage"), POLICY_REFUSALS)
def test_every_policy_refusal_is_plain_words_and_keeps_its_setting(
    policy: Policy, count: int, usage: Usage
) -> None:
    actor = Actor(source=Source.SLASH, slack_user_id="U1", slack_channel_id="C1")
    numbers = ("+33612345678", "+33698765432")[:count]
    request = SendRequest(
        recipients=numbers,
        text="disk full",
        sender=None,
        sms_type=SmsType.PREMIUM,
        purpose=Purpose.ALERT,
    )
    with pytest.raises(PolicyError) as refused:
        check_actor(policy, actor)
        check_request(policy, request, actor, usage)
    error = refused.value
    assert SETTING_NAME.fullmatch(error.rule)  # the audit trail and the CLI keep it
    assert setting_names([error.message, rule_label(error.rule)]) == []
