"""What the sender runs: each stored action by its kind, and the ack's side of storing.

An ack that promises a send (``/sms``, a button of its questions, the form's submit and
its large-send confirmation) stores the part of Slack's payload the send needs, in one
short insert, before it answers; a sender (:mod:`bot.runtime.sender`) claims the row
and calls :meth:`StoredRuns.run`, which hands it to the listener that stored it. A
restart right after the answer loses nothing.

The queue keeps a row once per key (a redelivered interaction is stored once). The key
is the send path's own request id under the kind (:func:`queue_key`): a ``/sms``
command and the buttons of its question share a request id (the question sends the
command at most once), and each must be stored. A copy is not stored: the lazy listener
runs it on its own thread, and the send path answers it with what became of the first
(as for a copy of ``/sms``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from slack_bolt import BoltContext

from bot.errors import AuditStoreError
from bot.i18n import N_
from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)

#: The context key where an ack leaves its stored row for the lazy listener.
STORED_ROW = "sms_bot_stored_action"
#: In :data:`STORED_ROW` when the store failed: the person is told nothing was sent.
NOTHING_STORED = -1
#: Said when an action that would send cannot be stored (nothing is sent).
NOT_STORED = N_(
    "Nothing was sent: the bot cannot record this send right now. "
    "Try again in a minute; if it goes on, tell whoever runs the bot."
)


class AfterAck(Enum):
    """What a lazy listener does once its ack stored (or did not store) the action."""

    #: Nothing was stored and nothing must be sent: the ack failed to store it.
    NOT_STORED = "not stored"
    #: Stored: the sender runs it (or, ``inline``, this thread just did).
    STORED = "stored"
    #: Not stored and not refused: run it here (a copy, or no queue at all).
    RUN_HERE = "run here"


def queue_key(kind: str, request_id: str, *more: str | None) -> str:
    """The key a stored action is kept under: ``request_id`` (the send path's) under
    ``kind``, and ``more`` when one request id covers several payloads."""
    return "\x1f".join((kind, request_id, *(part or "" for part in more)))


def store_action(
    deps: SlackDeps,
    context: BoltContext,
    kind: str,
    key: str,
    payload: Mapping[str, Any],
) -> bool:
    """Store an action for the sender in the ack; False when it could not be stored
    (the ack, or the lazy listener, must say nothing was sent). With no queue
    (``deps.commands`` None) nothing is stored and the lazy listener runs it."""
    commands = deps.commands
    if commands is None:
        return True
    try:
        stored = commands.store(kind, key, payload)
    except AuditStoreError as error:
        logger.error("%s not stored, nothing sent: %s", kind, error)
        context[STORED_ROW] = NOTHING_STORED
        return False
    if stored is not None:  # else a copy: the lazy listener runs it, the send path
        context[STORED_ROW] = stored  # answers it with what became of the first
    return True


def after_ack(deps: SlackDeps, context: BoltContext) -> AfterAck:
    """The lazy listener's side: a stored action is the sender's (``inline``: it is
    run here, now)."""
    stored = context.get(STORED_ROW)
    if stored is None:
        return AfterAck.RUN_HERE
    if stored == NOTHING_STORED:
        return AfterAck.NOT_STORED
    assert deps.commands is not None
    deps.commands.run_here(int(stored))
    return AfterAck.STORED


#: What runs one kind of stored action: its kind and its payload.
KindRunner = Callable[[str, dict[str, Any]], None]


class StoredRuns:
    """The sender's one runner: each stored action goes to the listener of its kind."""

    def __init__(self) -> None:
        self._runners: dict[str, KindRunner] = {}

    def add(self, run: KindRunner, *kinds: str) -> None:
        """``run(kind, payload)`` runs the actions stored under ``kinds``."""
        for kind in kinds:
            if kind in self._runners:
                raise ValueError(f"stored actions of kind {kind!r} have a runner")
            self._runners[kind] = run

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._runners)

    def run(self, kind: str, payload: dict[str, Any]) -> None:
        """Run one stored action (called by the sender, in whatever process).

        Raises:
            LookupError: no listener runs actions of this kind (a newer release
                stored it); the sender logs it and marks the row failed.
        """
        run = self._runners.get(kind)
        if run is None:
            raise LookupError(f"no runner for stored actions of kind {kind!r}")
        run(kind, payload)
