"""Helpers for the tests of actions stored before their ack (buttons, the form).

What the queue holds, a sender in ``external`` mode built from a second app instance
(as a host running ``sms-bot sender`` would be), and a sender that died after running
a command, before marking it run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bot.audit.commands import CommandQueue, command_intake
from bot.audit.tables import stored_commands
from bot.runtime.sender import Sender
from tests.conftest import SlackHarness
from tests.runtime.test_sender import rows, wait_until

MakeHarness = Callable[..., SlackHarness]


def stored(harness: SlackHarness, kind: str | None = None) -> list[dict[str, Any]]:
    """The queue's rows (of ``kind``), each with its body read back as JSON."""
    sender = harness.stack.sender
    assert sender is not None
    found = [
        {**row, "payload": json.loads(row["body"]) if row["body"] else None}
        for row in rows(sender.queue)
    ]
    return [row for row in found if kind is None or row["content_type"] == kind]


def run_elsewhere(
    make_harness: MakeHarness, database_url: str, **sms: Any
) -> SlackHarness:
    """Start a second app instance on the same database (and ``SMS_*`` settings),
    run every waiting action with a sender in ``external`` mode bound to it, and
    wait until it is done."""
    second = make_harness(database_url=database_url, sender="external", **sms)
    assert second.stack.sender is not None and second.stack.sender.runner is not None
    queue = second.stack.sender.queue
    worker = Sender(queue, mode="external", poll_seconds=0.05)
    worker.bind(second.stack.sender.runner)
    worker.start()
    try:
        wait_until(lambda: queue.unprocessed() == 0 and worker.idle())
    finally:
        worker.stop()
    second.settle()
    return second


def stored_id(queue: CommandQueue, row: dict[str, Any]) -> int:
    """The id the ack's store returned for a queue row: on SQLite the acks' intake's
    (the queue's file has its own ids), else the row's."""
    if queue.intake is None:
        return int(row["id"])
    with queue.intake.transaction("read") as conn:
        found = conn.execute(
            sa.select(command_intake.c.id).where(
                command_intake.c.digest == row["digest"]
            )
        ).scalar_one()
    return int(found)


def run_and_die(harness: SlackHarness, row: dict[str, Any]) -> None:
    """A sender claims the row (one of :func:`stored`) and runs it, then dies before
    marking it run; its claim then runs out, so the next sender takes the row again."""
    sender = harness.stack.sender
    assert sender is not None and sender.runner is not None
    queue = sender.queue
    item = queue.claim_one(stored_id(queue, row), "sender-that-died")
    assert item is not None and item.id == row["id"]
    sender.runner(item.content_type or "", json.loads(item.body))
    with queue.store.transaction(
        "the dead sender's lease runs out", write=True
    ) as conn:
        conn.execute(
            sa.update(stored_commands)
            .where(stored_commands.c.id == row["id"])
            .values(claimed_until=queue.now() - timedelta(seconds=1))
        )
