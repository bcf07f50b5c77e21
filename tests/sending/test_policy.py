from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.config import RateLimit
from bot.domain import Actor, Purpose, SendRequest, SmsType, Source
from bot.errors import PolicyError
from bot.sending.policy import (
    Policy,
    Usage,
    check_actor,
    check_request,
    normalise_blocked,
)

SLACK = Actor(
    source=Source.SLASH, slack_team_id="T1", slack_user_id="U1", slack_channel_id="C1"
)
CLI = Actor(source=Source.CLI)


def request(*numbers: str, simulation: bool = False) -> SendRequest:
    return SendRequest(
        recipients=numbers or ("+33612345678",),
        text="hello",
        sender=None,
        sms_type=SmsType.PREMIUM,
        purpose=Purpose.ALERT,
        simulation=simulation,
    )


def refusal(call: object) -> PolicyError:
    with pytest.raises(PolicyError) as exc_info:
        call()  # type: ignore[operator]
    return exc_info.value


def test_everyone_may_send_when_nothing_is_restricted() -> None:
    check_actor(Policy(), SLACK)
    check_request(Policy(), request(), SLACK, Usage())


def test_only_listed_channels_may_send() -> None:
    policy = Policy(allowed_channels=frozenset({"C9"}))
    error = refusal(lambda: check_actor(policy, SLACK))
    assert error.rule == "SMS_ALLOWED_CHANNELS"
    assert "not allowed from this conversation" in error.message
    check_actor(policy, SLACK.model_copy(update={"slack_channel_id": "C9"}))


def test_only_listed_users_or_members_of_listed_groups_may_send() -> None:
    policy = Policy(
        allowed_users=frozenset({"U2"}), allowed_usergroups=frozenset({"S1"})
    )
    error = refusal(lambda: check_actor(policy, SLACK))
    assert error.rule == "SMS_ALLOWED_USERS"
    assert "Ask an admin" in error.message
    check_actor(policy, SLACK, usergroups=["S1"])
    check_actor(policy, SLACK.model_copy(update={"slack_user_id": "U2"}))


def test_the_cli_operator_is_not_limited_by_slack_allow_lists() -> None:
    policy = Policy(allowed_users=frozenset({"U2"}), allowed_channels=frozenset({"C9"}))
    check_actor(policy, CLI)


def test_too_many_recipients_names_the_limit() -> None:
    error = refusal(
        lambda: check_request(
            Policy(max_recipients=1),
            request("+33612345678", "+33698765432"),
            SLACK,
            Usage(),
        )
    )
    assert error.rule == "SMS_MAX_RECIPIENTS"
    assert "2 recipients; the limit is 1" in error.message


def test_blocked_numbers_and_prefixes_are_refused_masked() -> None:
    blocked = normalise_blocked(["06 98 76 54 32", "+3389"], "FR")
    assert blocked == ("+33698765432", "+3389")
    policy = Policy(blocked=blocked)
    error = refusal(
        lambda: check_request(
            policy, request("+33612345678", "+33698765432"), SLACK, Usage()
        )
    )
    assert error.rule == "SMS_BLOCKED_NUMBERS"
    assert "+33 6 •• •• •• 32" in error.message
    assert "698765432" not in error.message.replace(" ", "")
    error = refusal(
        lambda: check_request(policy, request("+33899123456"), SLACK, Usage())
    )
    assert error.rule == "SMS_BLOCKED_NUMBERS"
    check_request(policy, request("+33612345678"), SLACK, Usage())


def test_opted_out_numbers_are_refused_with_how_to_lift_it() -> None:
    error = refusal(
        lambda: check_request(
            Policy(), request(), SLACK, Usage(), opted_out=["+33612345678"]
        )
    )
    assert error.rule == "OPT_OUT"
    assert "replied STOP" in error.message
    assert "sms-bot optout remove" in error.message


def test_rate_limit_says_when_sending_works_again() -> None:
    policy = Policy(rate=RateLimit(2, 3600, "2/hour"))
    started = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)
    check_request(
        policy, request(), SLACK, Usage(sends_in_window=1, window_started=started)
    )
    error = refusal(
        lambda: check_request(
            policy, request(), SLACK, Usage(sends_in_window=2, window_started=started)
        )
    )
    assert error.rule == "SMS_RATE_LIMIT"
    assert "2/hour" in error.message
    assert "after 10:15 UTC" in error.message


def test_rate_limit_does_not_apply_to_the_cli() -> None:
    policy = Policy(rate=RateLimit(1, 60, "1/minute"))
    check_request(policy, request(), CLI, Usage(sends_in_window=5))


def test_daily_budget_counts_spending_and_the_estimate() -> None:
    policy = Policy(daily_budget=1.0)
    check_request(policy, request(), SLACK, Usage(spent_today=0.5, estimated_cost=0.4))
    error = refusal(
        lambda: check_request(
            policy, request(), SLACK, Usage(spent_today=0.8, estimated_cost=0.4)
        )
    )
    assert error.rule == "SMS_DAILY_BUDGET"
    assert "0.80 of 1 credits spent today" in error.message
    assert "about 0.40" in error.message
