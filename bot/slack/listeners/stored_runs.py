"""What the sender runs: each stored action by its kind, and the ack's side of storing.

An ack that promises a send (``/sms``, a button of its questions, the form's submit and
its large-send confirmation, the App Home's page form, a Workflow Builder step's run)
stores the part of Slack's payload the send needs, in one short insert, before it
answers; a sender (:mod:`bot.runtime.sender`) claims the row and calls
:meth:`StoredRuns.run`, which hands it to the listener that stored it. A restart right
after the answer loses nothing.

No Bolt lazy listener: the ack itself decides what is left (:func:`left_after_store`)
and hands it to the listener pool (:func:`hand_over`) only when something is left. A
stored action in ``process`` or ``external`` mode leaves nothing in the web process,
which spares Bolt's copy of the request and a thread per request. The workflow steps
are the exception: without a queue only a lazy listener has the run's ``complete``
and ``fail``, so theirs stays, and does nothing when the step was stored.

The queue keeps a row once per key (a redelivered interaction is stored once). The key
is the send path's own request id under the kind (:func:`queue_key`): a ``/sms``
command and the buttons of its question share a request id (the question sends the
command at most once), and each must be stored. A copy is not stored: it runs on the
listener pool, and the send path answers it with what became of the first (as for a
copy of ``/sms``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from bot.errors import AuditStoreError
from bot.i18n import N_
from bot.slack.deps import SlackDeps

logger = logging.getLogger(__name__)

#: What :func:`store_action` returns when the store failed: nothing may be sent.
NOTHING_STORED = -1
#: Said when an action that would send cannot be stored (nothing is sent).
NOT_STORED = N_(
    "Nothing was sent: the bot cannot record this send right now. "
    "Try again in a minute; if it goes on, tell whoever runs the bot."
)
#: What is left of an action once its ack answered (run on the listener pool).
Work = Callable[[], object]


def queue_key(kind: str, request_id: str, *more: str | None) -> str:
    """The key a stored action is kept under: ``request_id`` (the send path's) under
    ``kind``, and ``more`` when one request id covers several payloads."""
    return "\x1f".join((kind, request_id, *(part or "" for part in more)))


def store_action(
    deps: SlackDeps, kind: str, key: str, payload: Mapping[str, Any]
) -> int | None:
    """Store an action for the sender in the ack: its row; None when it is to run
    here (a copy of one stored already, or no queue: ``deps.commands`` None);
    :data:`NOTHING_STORED` when the store failed (the ack says nothing was sent)."""
    commands = deps.commands
    if commands is None:
        return None
    try:
        return commands.store(kind, key, payload)
    except AuditStoreError as error:
        logger.error("%s not stored, nothing sent: %s", kind, error)
        return NOTHING_STORED


def left_after_store(deps: SlackDeps, row: int | None, run_here: Work) -> Work | None:
    """What is left after an ack that stored ``row`` (:func:`store_action`): nothing
    when a sender runs it, running it when this process is the sender (``inline``),
    ``run_here`` when it was not stored (a copy, or no queue)."""
    if row is None:
        return run_here
    if row == NOTHING_STORED:
        raise ValueError("nothing was stored: the ack says so, nothing is left")
    commands = deps.commands
    assert commands is not None, "a row was stored, so there is a queue"
    return partial(commands.run_here, row) if commands.inline else None


def hand_over(deps: SlackDeps, work: Work | None, what: str) -> None:
    """Run ``work`` on the listener pool (``deps.after_ack``), if any is left; with no
    pool (a bare harness), now. A failure is logged: the pool would drop it."""
    if work is None:
        return
    logged = partial(_logged, work, what)
    if deps.after_ack is None:
        logged()
    else:
        deps.after_ack(logged)


def _logged(work: Work, what: str) -> None:
    try:
        work()
    except Exception:
        logger.exception("%s: the work after the ack failed", what)


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
