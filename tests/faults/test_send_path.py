"""``/sms <number> <text>`` with each step failing in turn, each way it can fail.

Steps, in order: validate, the limits check with the pending insert, the Octopush call,
the outcome write, the tickets written with it, the channel post, remembering the post,
and the delivery receipt. After the fault the system heals as it would in production
(a callback is retried, a dead process is restarted, the sweep settles what is left
pending), a second command checks the limit, and every invariant is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

import bot.audit.store
import bot.sending.service
from bot.audit.deliveries import DeliveryLog
from tests.faults.conftest import NUMBERS, OCTOPUSH_READ_TIMEOUT, SLACK_TIMEOUT, World
from tests.faults.invariants import check_all, describe, scene_start

ALICE = NUMBERS["alice"]


def arm_validate(world: World, kind: str) -> None:
    world.injector.wrap(world.app.service, "validate", kind)


def arm_admit(world: World, kind: str) -> None:
    world.injector.wrap(world.app.service, "_admit", kind, kill_after=True)


def arm_octopush(world: World, kind: str) -> None:
    if kind == "exception":
        world.octopush.drop_next = True  # accepted, then the connection is cut
    elif kind == "timeout":
        world.octopush.stall_next = (
            OCTOPUSH_READ_TIMEOUT + 0.5
        )  # accepted, answered late
    else:  # the process dies while the answer is on its way
        world.injector.wrap(bot.sending.service, "deliver", kind, kill_after=True)


def arm_complete(world: World, kind: str) -> None:
    world.injector.wrap(world.app.store, "complete", kind, kill_after=True)


def arm_refusal_write(world: World, kind: str) -> None:
    """Octopush refuses (credit exhausted: nothing went out), then writing it fails."""
    world.octopush.refuse_next = {"code": 104, "message": "Credit exhausted"}
    world.injector.wrap(world.app.store, "complete", kind, kill_after=True)


def arm_tickets(world: World, kind: str) -> None:
    world.injector.wrap(bot.audit.store, "add_tickets", kind)


def arm_post(world: World, kind: str) -> None:
    if kind == "timeout":
        world.app.slack.state.stalls["chat.postMessage"] = SLACK_TIMEOUT + 0.7
    else:
        world.injector.wrap(world.app.stack.paging.deps.poster, "post", kind)


def arm_remember_post(world: World, kind: str) -> None:
    world.injector.wrap(DeliveryLog, "remember_post", kind, kill_after=True)


def arm_receipt(world: World, kind: str) -> None:
    inbound = world.app.stack.inbound
    world.injector.wrap(inbound._deliveries, "record", kind, kill_after=True)  # noqa: SLF001


@dataclass(frozen=True)
class Step:
    arm: Callable[[World, str], None]
    kinds: tuple[str, ...]


STEPS = {
    "validate": Step(arm_validate, ("exception", "kill")),
    "limits and pending insert": Step(
        arm_admit, ("exception", "database", "timeout", "kill")
    ),
    "octopush call": Step(arm_octopush, ("exception", "timeout", "kill")),
    "outcome write": Step(arm_complete, ("exception", "database", "timeout", "kill")),
    "refusal, then its outcome write": Step(
        arm_refusal_write, ("exception", "database", "timeout")
    ),
    "tickets": Step(arm_tickets, ("exception", "database", "kill")),
    "slack post": Step(arm_post, ("exception", "timeout", "kill")),
    "remember the post": Step(arm_remember_post, ("exception", "database", "kill")),
    "receipt": Step(arm_receipt, ("exception", "database", "timeout", "kill")),
}

#: Cases known to fail, with the issue that tracks each (none today: the refusal
#: whose outcome write failed is no longer resent, issue 18 item 2).
KNOWN: dict[tuple[str, str], str] = {}


KILLED_THREAD = "ignore::pytest.PytestUnhandledThreadExceptionWarning"


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


def ticket_of(world: World) -> str | None:
    sent = world.octopush.sent_to(ALICE)
    return sent[0].ticket if sent else None


@pytest.mark.parametrize(("step", "kind"), cases())
def test_a_send_survives_a_fault_at_each_step(
    world: World, step: str, kind: str
) -> None:
    STEPS[step].arm(world, kind)

    world.command(f"{ALICE} db-1 down")
    world.settle()
    ticket = ticket_of(world)
    receipt_sent = ticket is not None and not world.injector.killed
    if receipt_sent:
        world.callback(
            {
                "message_id": ticket,
                "number": ALICE,
                "status": "DELIVERED",
                "delivery_date": "2026-12-01 10:00:00",
            }
        )
        world.settle()
    assert (
        world.injector.fired.is_set()
        or world.octopush.faults_done
        or world.app.slack.state.stalls
        and world.app.slack.calls("chat.postMessage")
    ), "the fault was never injected"
    world.heal()
    try:
        check_all(world.records(), world.octopush, world.app.slack)
        if receipt_sent:  # the receipt was handled in the end, whatever failed
            log = DeliveryLog(world.app.store)
            assert log.status_of(message_id=ticket, number=ALICE) == "DELIVERED"
    except AssertionError as error:
        raise AssertionError(f"{error}\n{describe(world)}") from None

    since = scene_start(world)
    world.command(f"{ALICE} db-2 down too")  # the limit is one an hour
    world.app.settle()
    world.sweep()
    try:
        check_all(
            world.records(),
            world.octopush,
            world.app.slack,
            limit_per_user=1,
            since=since,
        )
    except AssertionError as error:
        raise AssertionError(f"{error}\n{describe(world)}") from None
