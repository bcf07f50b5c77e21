"""A move to the next member killed before its SMS is finished by the timer loop once
the move's grace (``MOVE_GRACE``) runs out, not ``escalate_after`` later; a move whose
SMS went out but was never recorded gives its member their full ``escalate_after``
(HTTP level, local fakes, SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.audit.pages import MOVE_GRACE, PageState, PageStore
from bot.paging.pager import WRITE_TRIES
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import (
    DIRECTORY,
    NUMBERS,
    FakeOctopush,
    inject_store_faults,
)
from tests.paging.test_failover import order
from tests.paging.test_store_failures import handled
from tests.slack.listeners.test_commands import all_text, wait_until
from tests.slack.listeners.test_pages import posted, receipt

ESCALATE_AFTER = timedelta(minutes=10)
#: The test rotation with a timer longer than the grace, and one with no timer.
WITH_TIMER = DIRECTORY.replace("escalate_after: 1s", "escalate_after: 10m")
NO_TIMER = DIRECTORY.replace("    escalate_after: 1s\n", "")
GRACE_S = MOVE_GRACE.total_seconds()


class Died(BaseException):
    """The process died here (no ``except Exception`` stops it): nothing after ran."""


def die_at(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    """``owner.name`` kills the process when called (a restarted one is another
    harness on the same database)."""

    def died(*args: Any, **kwargs: Any) -> Any:
        raise Died(name)

    monkeypatch.setattr(owner, name, died)


def bury(harness: SlackHarness) -> None:
    """The dead process's threads stop (its callback worker takes no more work)."""
    assert harness.web is not None
    harness.web.close()
    harness.stack.updates.stop(flush=False)


def page_updates(harness: SlackHarness) -> list[str]:
    return [all_text(call.args) for call in harness.slack.calls("chat.update")]


def paged(
    start: Callable[..., SlackHarness], directory_file: Path, directory: str
) -> tuple[SlackHarness, list[str]]:
    directory_file.write_text(directory)
    harness = start()
    members = order(harness)
    harness.command("page db-oncall DB down")
    posted(harness)
    return harness, members


def test_a_timer_move_killed_before_its_sms_is_finished_once_the_grace_runs_out(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert GRACE_S < ESCALATE_AFTER.total_seconds()
    dead, (first, second, third) = paged(start, directory_file, WITH_TIMER)
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager, "_attempt")
    with pytest.raises(Died):  # the move to the second member is claimed, then death
        dead.stack.escalations.run_escalations()
    bury(dead)
    escalations = start().stack.escalations  # the restarted process
    pages = escalations.pager.pages
    assert pages.get(1).current_member == second
    assert escalations.run_escalations() == []
    clock.advance(GRACE_S - 1)
    assert escalations.run_escalations() == []
    assert octopush.numbers() == [NUMBERS[first]]

    clock.advance(1)
    (run,) = escalations.run_escalations()
    assert run.reached is not None and run.reached.member == second
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert f"{first} did not acknowledge" in octopush.bodies[1]["text"]
    page = pages.get(1)
    assert len(page.audit_ids) == 2
    assert page.next_escalation_at == clock.at + ESCALATE_AFTER  # their full time

    clock.advance(GRACE_S + 1)
    assert escalations.run_escalations() == []
    clock.advance(ESCALATE_AFTER.total_seconds())
    (last,) = escalations.run_escalations()
    assert last.reached is not None and last.reached.member == third
    assert octopush.numbers() == [NUMBERS[m] for m in (first, second, third)]


def test_two_instances_finish_a_killed_move_once(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead, (first, second, _) = paged(start, directory_file, WITH_TIMER)
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager, "_attempt")
    with pytest.raises(Died):
        dead.stack.escalations.run_escalations()
    bury(dead)
    instances = [start(), start()]
    clock.advance(GRACE_S)
    barrier = threading.Barrier(2)
    runs: list[int] = []

    def timer(harness: SlackHarness) -> None:
        barrier.wait()
        runs.append(len(harness.stack.escalations.run_escalations()))

    threads = [threading.Thread(target=timer, args=(h,)) for h in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(runs) == [0, 1]
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_move_whose_sms_went_out_unrecorded_is_not_escalated_early(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second member was texted, then the process died before recording it: the
    grace timer that fires is not their escalate_after, so the third is not paged."""
    dead, (first, second, third) = paged(start, directory_file, WITH_TIMER)
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager.pages, "add_audit_id")
    with pytest.raises(Died):
        dead.stack.escalations.run_escalations()
    bury(dead)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    texted_second = dead.store.recent(limit=1)[0]
    escalations = start().stack.escalations

    clock.advance(GRACE_S)
    assert escalations.run_escalations() == []
    page = escalations.pager.pages.get(1)
    assert page.audit_ids[1] == texted_second.id
    assert page.next_escalation_at == clock.at + ESCALATE_AFTER
    clock.advance(ESCALATE_AFTER.total_seconds() - 1)
    assert escalations.run_escalations() == []
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]

    clock.advance(1)
    (run,) = escalations.run_escalations()
    assert run.reached is not None and run.reached.member == third
    assert octopush.numbers() == [NUMBERS[m] for m in (first, second, third)]


def test_a_move_whose_sms_was_refused_and_left_unrecorded_moves_on_at_the_grace(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Octopush refused the second member's number, then the process died before
    recording it: nobody was texted, so the third is paged once the grace ran out."""
    dead, (first, second, third) = paged(start, directory_file, WITH_TIMER)
    octopush.refused.add(NUMBERS[second])
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager.pages, "add_audit_id")
    with pytest.raises(Died):
        dead.stack.escalations.run_escalations()
    bury(dead)
    escalations = start().stack.escalations
    clock.advance(GRACE_S)
    (run,) = escalations.run_escalations()
    assert run.reached is not None and run.reached.member == third
    assert octopush.numbers() == [NUMBERS[m] for m in (first, second, third)]


def test_a_failover_killed_before_its_sms_without_escalate_after_is_finished(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rotation with no timer: only the move's grace brings the timer loop back."""
    dead, (first, second, _) = paged(start, directory_file, NO_TIMER)
    record = dead.store.recent(limit=1)[0]
    assert dead.stack.escalations.pager.pages.get(1).next_escalation_at is None
    die_at(monkeypatch, dead.stack.escalations.pager, "_attempt")
    with pytest.raises(Died):
        dead.stack.escalations.pager.fail_over(
            record.id,
            reason="NOT_DELIVERED receipt",
            resolve=dead.stack.paging.deps.resolve,
        )
    bury(dead)
    escalations = start().stack.escalations
    clock.advance(GRACE_S)
    (run,) = escalations.run_escalations()
    assert run.reached is not None and run.reached.member == second
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    assert escalations.pager.pages.get(1).next_escalation_at is None
    clock.advance(24 * 3600)
    assert escalations.run_escalations() == []
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_failover_whose_sms_went_out_unrecorded_only_clears_the_grace_timer(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dead, (first, second, _) = paged(start, directory_file, NO_TIMER)
    record = dead.store.recent(limit=1)[0]
    die_at(monkeypatch, dead.stack.escalations.pager.pages, "add_audit_id")
    with pytest.raises(Died):
        dead.stack.escalations.pager.fail_over(
            record.id,
            reason="NOT_DELIVERED receipt",
            resolve=dead.stack.paging.deps.resolve,
        )
    bury(dead)
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]
    escalations = start().stack.escalations
    clock.advance(GRACE_S)
    assert escalations.run_escalations() == []
    page = escalations.pager.pages.get(1)
    assert len(page.audit_ids) == 2 and page.next_escalation_at is None
    clock.advance(24 * 3600)
    assert escalations.run_escalations() == []
    assert octopush.numbers() == [NUMBERS[first], NUMBERS[second]]


def test_a_failed_receipt_racing_the_grace_timer_still_fails_over(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second member's SMS went out unrecorded; its failed receipt arrives on one
    instance just as another's grace timer records it (the page's version moves
    under the failover's claim): the third member is still paged, once."""
    dead, (first, second, third) = paged(start, directory_file, WITH_TIMER)
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager.pages, "add_audit_id")
    with pytest.raises(Died):
        dead.stack.escalations.run_escalations()
    bury(dead)
    receiver, timer = start(), start()
    clock.advance(GRACE_S)
    real_claim = PageStore.claim_next
    raced: list[int] = []

    def claim_after_the_timer(pages: PageStore, page: Any, **kwargs: Any) -> Any:
        if not raced:  # whichever instance's callback worker handles the receipt
            raced.append(len(timer.stack.escalations.run_escalations()))
        return real_claim(pages, page, **kwargs)

    monkeypatch.setattr(PageStore, "claim_next", claim_after_the_timer)
    receiver.callback(receipt("sms_t2", NUMBERS[second], "NOT_DELIVERED"))
    wait_until(lambda: len(octopush.bodies) == 3, timeout=15)
    wait_until(lambda: handled(receiver), timeout=15)
    assert raced == [0]  # the timer recorded the SMS and paged nobody
    assert octopush.numbers() == [NUMBERS[m] for m in (first, second, third)]
    assert f"{second} could not be reached" in octopush.bodies[2]["text"]


def test_recording_an_sms_after_an_acknowledgement_arms_no_timer(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The member acknowledged between their SMS and its record (a slow write)."""
    dead, _ = paged(start, directory_file, WITH_TIMER)
    clock.advance(ESCALATE_AFTER.total_seconds())
    die_at(monkeypatch, dead.stack.escalations.pager.pages, "add_audit_id")
    with pytest.raises(Died):
        dead.stack.escalations.run_escalations()
    bury(dead)
    texted_second = dead.store.recent(limit=1)[0]
    pager = start().stack.escalations.pager
    moved = pager.pages.get(1)
    assert pager.acknowledge(1, by="UBOB") is not None
    pager.pages.add_audit_id(moved, texted_second.id)
    page = pager.pages.get(1)
    assert page.state is PageState.ACKNOWLEDGED
    assert page.audit_ids[1] == texted_second.id and page.next_escalation_at is None
    clock.advance(GRACE_S)
    assert pager.escalate_due(resolve=None) == []


def test_a_post_shows_no_escalation_time_while_the_move_is_in_its_grace(
    start: Callable[..., SlackHarness],
    octopush: FakeOctopush,
    directory_file: Path,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second member's SMS could not be recorded: the timer is the move's grace,
    so the post does not announce that time as when the third member is paged."""
    harness, (first, second, third) = paged(start, directory_file, WITH_TIMER)
    faults = inject_store_faults(harness, monkeypatch)
    clock.advance(ESCALATE_AFTER.total_seconds())
    faults.fail("index a page attempt", times=WRITE_TRIES)
    (run,) = harness.stack.escalations.run_escalations()
    assert run.reached is not None and run.reached.member == second
    assert run.problems
    wait_until(lambda: harness.stack.updates.idle())
    (post,) = [p for p in page_updates(harness) if "Page for" in p][-1:]
    assert "Waiting for an acknowledgement" in post
    assert f"pages *{third}* at" not in post

    clock.advance(GRACE_S)  # the grace timer records the SMS: the time is known
    assert harness.stack.escalations.run_escalations() == []
    page = harness.stack.escalations.pager.pages.get(1)
    assert page.escalates_at == clock.at + ESCALATE_AFTER
