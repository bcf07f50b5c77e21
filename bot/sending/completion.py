"""Writing an attempt's answer, retried while the process lives.

Once Octopush answered, the answer must reach the audit record: left ``pending``, the
sweep would take it for a crash and resend it, and a refusal (code 104, no credit)
would go out once the credit is back, after the person was told it failed. So a
failed completion write is retried a few times at once (the caller is on a worker,
never in an ack), then on a background thread; the record's lease is renewed all
along, so no sweep takes it while this process holds the answer. A refusal is also
noted on the record first, in one small write: if this process dies before the
completion lands, the sweep records the refusal instead of resending. And if a sweep
settled the attempt as a duplicate (code 120) after all, the answer held here fills in
the tickets and cost it could not know.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.audit import AlreadySettledError, AttemptResult, AuditStore
from bot.audit.ledger import SendLedger
from bot.domain import AuditStatus
from bot.i18n import N_
from bot.sending.lease import LeaseKeeper

logger = logging.getLogger(__name__)

#: Pauses between the writes tried at once, before the background takes over.
RETRY_DELAYS: tuple[float, ...] = (0.2, 1.0, 3.0)
#: How often the background tries again, and for how long at most.
RETRY_EVERY = 10.0
RETRY_FOR = timedelta(hours=1)
#: The ``error_code`` noted on a pending record Octopush refused without a code.
REFUSED = "refused"


@dataclass
class _Held:
    result: AttemptResult
    deadline: float
    #: The attempt's request id: the write lands on that attempt or on none.
    request_id: str


class Completer:
    """Completes audit records, retrying a failed write while the process lives."""

    def __init__(
        self,
        store: AuditStore,
        keeper: LeaseKeeper,
        *,
        delays: Sequence[float] = RETRY_DELAYS,
        every: float = RETRY_EVERY,
        retry_for: timedelta = RETRY_FOR,
    ) -> None:
        self._store = store
        self._ledger = SendLedger(store)
        self._keeper = keeper
        self._delays = tuple(delays)
        self._every = every
        self._retry_for = retry_for.total_seconds()
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()
        self._busy = threading.Event()
        self._pause = threading.Event()  # never set: the thread's timer
        self._thread: threading.Thread | None = None

    def complete(
        self, record_id: int, result: AttemptResult, *, refused: bool, request_id: str
    ) -> str | None:
        """Write ``result`` on pending record ``record_id``; ``None`` once it is written.

        Otherwise returns what went wrong, for the person (English, ``N_``-marked):
        the sweep settled the record first, or the write keeps failing and goes on
        in the background (the record stays pending and leased meanwhile).
        """
        error = self._try(record_id, result)
        if error is None:
            return None
        if isinstance(error, AlreadySettledError):
            return _settled_elsewhere(error)
        if refused:
            self._note_refusal(record_id, result.error_code or REFUSED)
        for delay in self._delays:
            time.sleep(delay)
            error = self._try(record_id, result)
            if error is None:
                return None
            if isinstance(error, AlreadySettledError):
                return _settled_elsewhere(error)
        self._keep_trying(record_id, result, request_id)
        return N_(
            "the audit record #%(audit_id)s could not be completed (%(error)s); it "
            "stays pending until the outcome is recorded, by this process while it "
            "runs or by the crash sweep after",
            audit_id=record_id,
            error=type(error).__name__,
        )

    def holds(self, record_id: int) -> bool:
        """Whether this process holds an answer for ``record_id`` not written yet."""
        with self._lock:
            return record_id in self._held

    def retry_now(self) -> None:
        """One background turn: try every answer held (the thread calls it)."""
        with self._lock:
            held = list(self._held.items())
        for record_id, item in held:
            if not self._still_theirs(record_id, item.request_id):
                self._forget(record_id)
                continue
            error = self._try(record_id, item.result)
            expired = time.monotonic() >= item.deadline
            if error is None or isinstance(error, AlreadySettledError) or expired:
                if error is not None:
                    logger.error(
                        "gave up recording the outcome of audit #%s: %s",
                        record_id,
                        error,
                    )
                self._forget(record_id)

    def _try(self, record_id: int, result: AttemptResult) -> Exception | None:
        try:
            self._store.complete(record_id, result)
        except AlreadySettledError as error:
            if result.status is AuditStatus.SENT and self._fill_in(record_id, result):
                return None
            logger.warning(
                "audit #%s was settled elsewhere first: %s", record_id, error
            )
            return error
        except Exception as error:  # the write failed: say so, never raise past here
            logger.error("completing audit record #%s failed: %s", record_id, error)
            return error
        return None

    def _fill_in(self, record_id: int, result: AttemptResult) -> bool:
        """The sweep took it for a crash and got "duplicate" (120): add what it missed."""
        try:
            filled = self._store.fill_in_sent(record_id, result)
        except Exception as error:
            logger.error("filling in audit #%s failed: %s", record_id, error)
            return False
        if filled:
            logger.warning(
                "audit #%s was settled as sent by the sweep; its tickets and cost are "
                "filled in from the answer this process got",
                record_id,
            )
        return filled

    def _note_refusal(self, record_id: int, code: str) -> None:
        try:
            self._ledger.note_refusal(record_id, code)
        except Exception as error:
            logger.error("noting the refusal of audit #%s failed: %s", record_id, error)

    def _still_theirs(self, record_id: int, request_id: str) -> bool:
        """Whether record ``record_id`` is still the attempt this answer belongs to.

        An hour of retries can outlive the record: purged, or (SQLite reuses the id of
        a deleted last row) replaced by another attempt. The answer is never written
        on someone else's attempt; a read that fails is tried again next turn.
        """
        try:
            found = self._store.find_by_request_id(request_id)
        except Exception:  # unreadable for now (the database is still down): retry
            return True
        if found is None or found.id != record_id:
            logger.error(
                "audit #%s no longer holds attempt %s: its held outcome is dropped",
                record_id,
                request_id,
            )
            return False
        return True

    def _keep_trying(
        self, record_id: int, result: AttemptResult, request_id: str
    ) -> None:
        self._keeper.hold(record_id)
        with self._lock:
            self._held[record_id] = _Held(
                result, time.monotonic() + self._retry_for, request_id
            )
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="sms-bot-complete", daemon=True
                )
                self._thread.start()
            self._busy.set()

    def _forget(self, record_id: int) -> None:
        with self._lock:
            if self._held.pop(record_id, None) is not None:
                self._keeper.release(record_id)
            if not self._held:
                self._busy.clear()

    def _loop(self) -> None:
        while True:
            self._busy.wait()
            self._pause.wait(self._every)
            self.retry_now()


def _settled_elsewhere(error: AlreadySettledError) -> str:
    return N_(
        "the audit record #%(audit_id)s was settled by the crash sweep first "
        "(%(status)s)",
        audit_id=error.record_id,
        status=error.status,
    )
