"""``/sms oncall set`` at its edges: huge durations and dates, and Slack's escaped mentions.

Issue 18 item 8: ``for 99999999999h`` answered HTTP 500 (``OverflowError`` in the ack).
Issue 19 item 7: the README's ``@carol`` arrives as ``<@U0CAROL|carol>``; it resolves to
the directory person with that Slack id, and errors show ``@carol``, never the markup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.audit.tables import oncall_overrides
from tests.conftest import SlackHarness
from tests.paging.conftest import DIRECTORY, FakeOctopush
from tests.slack.listeners.test_commands import all_text

Start = Callable[..., SlackHarness]


def override_rows(harness: SlackHarness) -> list[str]:
    with harness.store.transaction("read overrides") as conn:
        found = conn.execute(sa.select(oncall_overrides.c.person))
        return [str(person) for person in found.scalars().all()]


@pytest.mark.parametrize(
    "when",
    [
        "for 99999999999h",
        "for 9999999999999999d",
        "for 99999999999999999999999999m",
        "for 367d",
        "until 9999-12-31 23:59",
        "until 0001-01-01 00:00+23:00",
    ],
)
def test_a_huge_duration_or_date_gets_a_plain_answer_and_stores_nothing(
    start: Start, octopush: FakeOctopush, when: str
) -> None:
    harness = start()
    response = harness.command(f"oncall set db-oncall <@UALICE|alice> {when}")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert "more than 366 days away" in answer["text"]
    assert override_rows(harness) == []


def test_the_readme_example_sets_carol_by_her_escaped_mention(
    start: Start, octopush: FakeOctopush, directory_file: Path
) -> None:
    directory_file.write_text(
        DIRECTORY.replace(
            'carol: {phone: "+33611223344"}',
            'carol: {phone: "+33611223344", slack: U0CAROL}',
        )
    )
    harness = start()
    assert harness.command("oncall set db-oncall <@U0CAROL|carol> for 4h").text == ""
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "in_channel"
    assert "*carol* covers *db-oncall*" in all_text(reply)
    assert override_rows(harness) == ["carol"]


def test_an_unknown_mention_is_named_as_people_typed_it(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    harness.command("oncall set db-oncall <@U0DAVE|dave> for 4h")
    (reply,) = harness.webhooks()
    shown = all_text(reply)
    assert reply["response_type"] == "ephemeral"
    assert "@dave is not in the directory" in shown
    assert "<@U0DAVE|" not in shown
    assert override_rows(harness) == []


@pytest.mark.parametrize(
    "typed",
    [
        "oncall set <@U0CAROL|carol> db-oncall for 4h",  # the words swapped
        "oncall <@U0CAROL|carol>",
    ],
)
def test_a_mention_typed_as_a_rotation_is_named_without_markup(
    start: Start, octopush: FakeOctopush, typed: str
) -> None:
    harness = start()
    harness.command(typed)
    (reply,) = harness.webhooks()
    shown = all_text(reply)
    assert "No rotation called '@carol'" in shown
    assert "<@" not in shown.lower()
    assert override_rows(harness) == []
