"""Issue 11: on-call overrides, set and cleared from Slack, shared by every instance."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.audit import AuditStore
from bot.audit.overrides import OverrideStore
from bot.audit.tables import oncall_overrides
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import NUMBERS, FakeOctopush
from tests.slack.listeners.test_commands import all_text
from tests.slack.listeners.test_pages import posted

Start = Callable[..., SlackHarness]


def order(harness: SlackHarness) -> list[str]:
    return list(harness.stack.escalations.pager.plan("db-oncall").members)


def rows(harness: SlackHarness) -> list[dict[str, object]]:
    with harness.store.transaction("read overrides") as conn:
        found = conn.execute(
            sa.select(oncall_overrides).order_by(oncall_overrides.c.id)
        )
        return [dict(row) for row in found.mappings().all()]


def test_a_page_goes_to_the_override_then_escalates_through_the_rotation(
    start: Start, octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start()
    first, second, third = order(harness)
    harness.command(f"oncall set db-oncall {third} for 4h", user="U7")
    (reply,) = harness.webhooks()
    assert reply["response_type"] == "in_channel"
    assert f"*{third}* covers *db-oncall*" in all_text(reply)
    assert order(harness) == [third, first, second]
    harness.command("page db-oncall DB down", trigger="t-page")
    posted(harness)
    assert octopush.numbers() == [NUMBERS[third]]
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    assert octopush.numbers() == [NUMBERS[third], NUMBERS[first]]
    (row,) = rows(harness)
    assert row["person"] == third and row["created_by"] == "U7"
    assert row["ends_at"] == clock.at - timedelta(seconds=2) + timedelta(hours=4)


def test_an_override_until_a_local_time_ends_then_and_another_instance_sees_it(
    start: Start, octopush: FakeOctopush, clock: FakeClock
) -> None:
    clock.at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    a, b = start(), start()
    cover = order(a)[2]
    a.command(f"oncall set db-oncall {cover} until 2026-12-24 18:00")
    a.webhooks()
    (row,) = rows(a)
    assert row["ends_at"] == datetime(2026, 12, 24, 17, tzinfo=UTC)  # 18:00 CET
    assert order(b)[0] == cover  # the shared store: every instance pages the cover
    clock.at = datetime(2026, 12, 24, 17, tzinfo=UTC)
    assert order(b)[0] != cover  # over at 18:00 Paris time


def test_clear_ends_the_override_and_keeps_it_on_record(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    on_call, _, cover = order(harness)
    harness.command(f"oncall set db-oncall {cover} for 1d", user="U7")
    harness.webhooks()
    harness.command("oncall clear db-oncall", user="U8", trigger="t-clear")
    replies = harness.webhooks(2)
    assert "cleared the override" in all_text(replies[1])
    assert order(harness)[0] == on_call
    (row,) = rows(harness)
    assert row["cleared_by"] == "U8" and row["cleared_at"] is not None


def test_oncall_shows_the_override(start: Start, octopush: FakeOctopush) -> None:
    harness = start()
    cover = order(harness)[2]
    harness.command(f"oncall set db-oncall {cover} for 4h")
    harness.webhooks()  # the set is stored before the next command
    harness.command("oncall", trigger="t-show")
    shown = all_text(harness.webhooks(2)[1])
    assert f"override: *{cover}* covers until <!date^" in shown


def test_only_sms_allowed_users_may_set_an_override_when_it_is_set(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start(allowed_users="U9")
    harness.command("oncall set db-oncall carol for 4h", user="U1")
    (refused,) = harness.webhooks()
    assert "allowed to send SMS" in all_text(refused)
    assert rows(harness) == []
    harness.command("oncall set db-oncall carol for 4h", user="U9", trigger="t9")
    harness.webhooks(2)
    assert [row["person"] for row in rows(harness)] == ["carol"]


def test_someone_who_may_not_page_here_may_not_set_an_override(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start(allowed_channels="C9")
    harness.command("oncall set db-oncall carol for 4h", channel="C1")
    (refused,) = harness.webhooks()
    assert "not allowed from this conversation" in all_text(refused)
    assert rows(harness) == []


def test_bad_override_commands_name_the_problem_and_store_nothing(
    start: Start, octopush: FakeOctopush, clock: FakeClock
) -> None:
    harness = start()
    clock.at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    # Refused by the directory or the clock, after the ack: an ephemeral reply.
    cases = [
        ("oncall set nope carol for 4h", "No rotation called 'nope'"),
        ("oncall set db-oncall zed for 4h", "'zed' is not a person"),
        ("oncall set db-oncall <@UNOBODY> for 4h", "is not in the directory"),
        ("oncall set db-oncall carol until 2026-11-01 09:00", "in the past"),
        ("oncall clear nope", "No rotation called 'nope'"),
    ]
    for index, (text, problem) in enumerate(cases):
        harness.command(text, trigger=f"t{index}")
        reply = harness.webhooks(index + 1)[index]
        assert problem in all_text(reply), text
        assert reply.get("response_type") == "ephemeral"
    # Malformed words are answered in the ack itself (the grammar's job).
    for text in ("oncall set db-oncall carol for soon", "oncall set db-oncall carol"):
        answer = harness.command(text, trigger=f"ack-{text}").json()
        assert answer["response_type"] == "ephemeral" and answer["text"]
    assert rows(harness) == []


def test_a_mention_sets_the_directory_person_with_that_slack_id(
    start: Start, octopush: FakeOctopush
) -> None:
    harness = start()
    harness.command("oncall set db-oncall <@UALICE|alice> for 2h")
    harness.webhooks()
    assert [row["person"] for row in rows(harness)] == ["alice"]


def test_directory_check_prints_the_override_in_force(
    tmp_path: Path, env: dict[str, str], directory_file: Path
) -> None:
    store = AuditStore.from_url(env["DATABASE_URL"])
    try:
        OverrideStore(store).set(
            "db-oncall",
            "carol",
            until=datetime.now(UTC) + timedelta(hours=4),
            by="U7",
        )
    finally:
        store.close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "directory",
            "check",
            "--file",
            str(directory_file),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "  override: carol covers until" in result.stdout
    assert result.stdout.count("    ") >= 3  # the next three hand-overs
    assert json.dumps(result.stdout)  # printable, no traceback
