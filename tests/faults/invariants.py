"""What must hold after any fault, once the system has healed (retry, restart, sweep).

1. Each attempt has exactly one audit record, with the true status: an attempt whose
   SMS went out is ``sent`` (or ``failed`` saying Octopush may have received it, when
   the answer never came); one that never reached Octopush is not ``sent``; nothing is
   left ``pending``.
2. No SMS goes out twice (per number and per message).
3. Nobody is told an SMS failed when it went out.
4. Nobody is told "nothing happened" once Octopush was called.
5. The sender's limit is never exceeded.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from bot.audit import AuditRecord
from bot.domain import AuditStatus
from tests.fakes.slack import FakeSlack
from tests.faults.octopush import FaultyOctopush, Received

#: Words that tell the reader an SMS did not go out.
NOT_SENT = ("SMS not sent", "The SMS was not sent", "nothing was sent")
#: Words that tell the reader nothing happened at all.
NOTHING_DONE = ("nothing more was done", "nothing was sent")
#: The hedge that makes a failure honest when the answer never came.
MAYBE = "may have received it"
SAID_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")


def said(slack: FakeSlack) -> list[str]:
    """Every message the bot showed someone (posts, updates, ephemeral, response_url)."""
    return [
        json.dumps(call.args, ensure_ascii=False)
        for call in slack.state.calls
        if call.method in SAID_METHODS or call.method.startswith("webhook")
    ]


def check_all(
    records: list[AuditRecord],
    octopush: FaultyOctopush,
    slack: FakeSlack,
    *,
    limit_per_user: int | None = None,
    since: tuple[int, int] = (0, 0),
) -> None:
    """``since``: (messages, Octopush requests) before the scene whose words are checked;
    a message without an audit number is judged against that scene's requests only."""
    attempts = [r for r in records if r.status is not AuditStatus.REJECTED]
    check_records(attempts, octopush)
    check_no_sms_twice(octopush)
    messages, requests = since
    check_what_people_were_told(
        attempts, octopush, said(slack)[messages:], octopush.received[requests:]
    )
    if limit_per_user is not None:
        check_limits(attempts, octopush, limit_per_user)


def check_records(attempts: list[AuditRecord], octopush: FaultyOctopush) -> None:
    by_request = Counter(r.request_id for r in attempts)
    reached = {r.request_id for r in octopush.received}
    for sent in octopush.sent():
        assert by_request[sent.request_id] == 1, (
            f"the SMS of request {sent.request_id} has {by_request[sent.request_id]} "
            "audit records, not one"
        )
    went_out = {r.request_id for r in octopush.sent()}
    for record in attempts:
        assert record.status is not AuditStatus.PENDING, (
            f"audit #{record.id} is still pending after the sweep"
        )
        if record.request_id in went_out:
            assert record.status is AuditStatus.SENT or (
                record.status is AuditStatus.FAILED
                and MAYBE in (record.error_message or "")
            ), f"audit #{record.id} went out but says {record.status}: {record}"
        if record.request_id not in reached:
            assert record.status is not AuditStatus.SENT, (
                f"audit #{record.id} says sent but never reached Octopush"
            )


def check_no_sms_twice(octopush: FaultyOctopush) -> None:
    per_number = Counter(
        (number, sent.text) for sent in octopush.sent() for number in sent.numbers
    )
    twice = {key: count for key, count in per_number.items() if count > 1}
    assert not twice, f"texted more than once: {twice}"


def check_what_people_were_told(
    attempts: list[AuditRecord],
    octopush: FaultyOctopush,
    messages: list[str],
    scene: list[Received],
) -> None:
    by_id = {r.id: r for r in attempts}
    went_out = {r.request_id for r in octopush.sent()}
    reached = {r.request_id for r in octopush.received}
    for message in messages:
        ids = [int(i) for i in re.findall(r"audit #(\d+)", message)]
        about = [by_id[i] for i in ids if i in by_id]
        hedged = MAYBE in message
        if any(words in message for words in NOT_SENT) and not hedged:
            out = [r.id for r in about if r.request_id in went_out]
            if not about:
                out = [r.request_id for r in scene if r.accepted]
            assert not out, f"told it failed, but it went out ({out}): {message}"
        if any(words in message for words in NOTHING_DONE):
            called = [r.id for r in about if r.request_id in reached]
            if not about:
                called = [r.request_id for r in scene]
            assert not called, (
                f"told nothing happened after Octopush was called: {message}"
            )


def check_limits(
    attempts: list[AuditRecord], octopush: FaultyOctopush, limit: int
) -> None:
    went_out = {r.request_id for r in octopush.sent()}
    per_user = Counter(
        r.slack_user_id
        for r in attempts
        if r.request_id in went_out and r.slack_user_id
    )
    over = {user: n for user, n in per_user.items() if n > limit}
    assert not over, f"more than {limit} SMS went out for: {over}"


def scene_start(world: Any) -> tuple[int, int]:
    """Where the next scene starts: (messages said, Octopush requests) so far."""
    return len(said(world.app.slack)), len(world.octopush.received)


def describe(world: Any) -> str:
    """What happened, for a failing case."""
    lines = [f"octopush: {r}" for r in world.octopush.received]
    lines += [
        f"record: #{r.id} {r.status} {r.request_id} {r.error_message}"
        for r in world.records()
    ]
    lines += [f"said: {m[:300]}" for m in said(world.app.slack)]
    return "\n".join(lines)
