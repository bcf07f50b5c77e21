"""``/sms page db-oncall …`` with each step of a page failing in turn, each way it can.

Steps: the page record, recording the page's attempts, the page post, the failover a
failed delivery receipt starts, and the escalation timer. After the fault the system
heals (callbacks retried, a dead process restarted, the sweep, the next timer pass),
then the invariants hold, the page that went out is still there to acknowledge, and
a page that had to move on reached the next member exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bot.audit.pages import MOVE_GRACE
from bot.domain import AuditStatus
from tests.faults.conftest import NUMBERS, OCTOPUSH_READ_TIMEOUT, World
from tests.faults.invariants import check_all, describe

ESCALATE_AFTER_SECONDS = 5 * 60
KILLED_THREAD = "ignore::pytest.PytestUnhandledThreadExceptionWarning"


def arm_create(world: World, kind: str) -> None:
    world.injector.wrap(world.pager.pages, "create", kind, kill_after=True)


def arm_audit_ids(world: World, kind: str) -> None:
    world.injector.wrap(world.pager.pages, "add_audit_id", kind, kill_after=True)


def arm_post(world: World, kind: str) -> None:
    world.injector.wrap(world.pager.pages, "set_message", kind, kill_after=True)


def arm_move_on(world: World, kind: str) -> None:
    """The move to the next member (failover or escalation) or its SMS fails."""
    if kind == "timeout":
        world.octopush.stall_next = OCTOPUSH_READ_TIMEOUT + 0.5
    else:
        world.injector.wrap(world.pager.pages, "claim_next", kind, kill_after=True)


@dataclass(frozen=True)
class Step:
    arm: Callable[[World, str], None]
    kinds: tuple[str, ...]
    #: "failover" or "escalation": the page must move on to the next member.
    moves_on: str | None = None


STEPS = {
    "page record": Step(arm_create, ("exception", "database", "kill")),
    "page attempts": Step(arm_audit_ids, ("exception", "database", "kill")),
    "page post": Step(arm_post, ("exception", "database", "kill")),
    "failover": Step(
        arm_move_on, ("exception", "database", "timeout", "kill"), "failover"
    ),
    "escalation": Step(
        arm_move_on, ("exception", "database", "timeout", "kill"), "escalation"
    ),
}

#: Cases known to fail, with what tracks each.
KNOWN: dict[tuple[str, str], str] = {}


def cases() -> list[object]:
    found = []
    for name, step in STEPS.items():
        for kind in step.kinds:
            marks = []
            if kind == "kill":  # a killed worker thread is what a dead process leaves
                marks.append(pytest.mark.filterwarnings(KILLED_THREAD))
            if (name, kind) in KNOWN:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[(name, kind)]))
            found.append(pytest.param(name, kind, id=f"{name}-{kind}", marks=marks))
    return found


@pytest.mark.parametrize(("step", "kind"), cases())
def test_a_page_survives_a_fault_at_each_step(
    world: World, step: str, kind: str
) -> None:
    first, second = world.pager.plan("db-oncall").members
    moves_on = STEPS[step].moves_on
    if moves_on is None:
        STEPS[step].arm(world, kind)

    world.command("page db-oncall DB down")
    world.settle()
    if moves_on is not None:
        (paged,) = world.octopush.sent_to(NUMBERS[first])
        STEPS[step].arm(world, kind)
        if moves_on == "failover":
            world.callback(
                {
                    "message_id": paged.ticket,
                    "number": NUMBERS[first],
                    "status": "NOT_DELIVERED",
                    "delivery_date": "2026-12-01 10:00:00",
                }
            )
            world.settle()
        else:
            world.clock.advance(ESCALATE_AFTER_SECONDS + 1)
            world.escalation_tick()
    world.heal()
    if moves_on == "escalation":
        # The next pass of the timer once a move's grace ran out: a move killed
        # before its SMS is finished then, long before escalate_after.
        assert MOVE_GRACE.total_seconds() + 1 < ESCALATE_AFTER_SECONDS
        world.clock.advance(MOVE_GRACE.total_seconds() + 1)
        world.escalation_tick()

    try:
        check_all(world.records(), world.octopush, world.app.slack)
        first_sent = world.octopush.sent_to(NUMBERS[first])
        if first_sent:
            (record,) = [
                r for r in world.records() if r.request_id == first_sent[0].request_id
            ]
            page = world.pager.pages.for_audit(record.id)
            assert page is not None, "a page that went out was lost"
            assert NUMBERS[first] in world.pager.pages.numbers_texted(page)
        if moves_on is not None:
            assert len(world.octopush.sent_to(NUMBERS[second])) == 1, (
                f"the {moves_on} never reached {second}"
            )
            assert all(r.status is not AuditStatus.PENDING for r in world.records())
    except AssertionError as error:
        raise AssertionError(f"{error}\n{describe(world)}") from None
