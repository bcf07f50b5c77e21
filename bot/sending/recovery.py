"""The pending sweep: settle attempts left ``pending`` by a process that died mid-send.

A pending record whose lease ran out means a process stopped between writing the
record and completing it, so Octopush may or may not have the SMS. A process renews
the lease while its send runs and while it holds an answer it could not write yet
(:mod:`bot.sending.lease`), so however long a batched send takes, the sweep never
takes it over; and an attempt Octopush refused is never resent: the refusal noted on
the record (:mod:`bot.sending.completion`) is recorded instead.

Resending with the same ``request_id`` finds out safely: Octopush sends it if it never
arrived, and answers "duplicate" (code 120) if it did, which is recorded ``sent`` with
ticket and cost unknown. That only works within Octopush's 24-hour ``request_id``
window, and a late alert can do harm, so only recent attempts are resent; older ones
are marked failed, outcome unknown.

Every instance sweeps at start-up and then every :data:`SWEEP_SECONDS`
(:class:`PendingSweeper`). Before settling a record, an instance claims it with a
compare-and-set on its lease (:meth:`bot.audit.ledger.SendLedger.claim`), so when two
sweep at once exactly one resends it, and it holds that lease while it resends.

Each settled record is summed up in one line: English in the log, marked (``N_``) so
``sms-bot audit recover`` prints it in its reader's language and the admin channel
reads it in the workspace's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError

from bot.audit import AttemptResult, AuditRecord
from bot.audit.ledger import SendLedger
from bot.domain import AuditStatus
from bot.errors import AuditStoreError
from bot.i18n import N_, translator
from bot.sending.completion import REFUSED
from bot.sending.delivery import unknown_result
from bot.sending.service import SmsService

logger = logging.getLogger(__name__)

#: A pending record younger than this is left alone even without a lease (records
#: written before leases existed; a live process's lease protects the others).
MIN_AGE = timedelta(minutes=1)
#: Resend no attempt older than this: the page is stale, and the window is closing.
MAX_RESEND_AGE = timedelta(minutes=15)
#: The lease a sweeper takes on a record it settles (renewed while it resends).
CLAIM_LEASE = timedelta(minutes=2)
#: How often each instance sweeps.
SWEEP_SECONDS = 30.0


@dataclass(frozen=True)
class Settled:
    """What recovery did with one pending record."""

    audit_id: int
    status: AuditStatus
    #: English (a :class:`bot.i18n.Deferred`): ``tr.gettext(summary)`` shows it.
    summary: str


def recover_pending(
    service: SmsService,
    *,
    min_age: timedelta = MIN_AGE,
    max_resend_age: timedelta = MAX_RESEND_AGE,
    report: Callable[[str], None] | None = None,
) -> list[Settled]:
    """Settle every pending record older than ``min_age`` whose lease ran out.

    Records this process is sending, or whose answer it holds, are never taken. Each
    settled record is reported in one line.

    ``report`` gets the line in the workspace's language (it posts to the admin channel).
    """
    store = service.store
    ledger = SendLedger(store)
    settled = []
    for record in ledger.unsettled(age=min_age):
        if service.holds(record.id):
            logger.info("pending #%s is still being worked on here", record.id)
            continue
        if not ledger.claim(record, owner=service.leases.owner, lease=CLAIM_LEASE):
            logger.info("pending #%s is being settled by another instance", record.id)
            continue
        age = store.now() - record.created_at
        try:
            result = _settle(service, record, resend=age <= max_resend_age)
        except AuditStoreError as error:
            # Completed meanwhile (complete() refuses a record no longer pending).
            logger.info("pending #%s not settled here: %s", record.id, error)
            continue
        line = N_(
            "audit #%(audit_id)s was left pending by a crash: %(outcome)s",
            audit_id=record.id,
            outcome=result.error_message or "",
        )
        settled.append(Settled(record.id, result.status, line))
        logger.warning("%s", line)
        if report is not None:
            report(translator().gettext(line))
    return settled


def _settle(service: SmsService, record: AuditRecord, *, resend: bool) -> AttemptResult:
    if record.error_code is not None:  # Octopush refused it: never send it again
        return _refused(service, record, record.error_code)
    if not resend:
        return _give_up(service, record, N_("too old to resend safely"))
    if record.text is None:
        return _give_up(
            service, record, N_("its text was redacted, so it cannot be resent")
        )
    try:
        return service.resend(record)
    except (ValidationError, ValueError) as error:
        # A record written by an older version (or by hand) must not stop recovery of
        # every younger record at each start; name the fields, never their values.
        fields = ""
        if isinstance(error, ValidationError):
            fields = ", ".join(
                sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
            )
        why = (
            N_("it cannot be rebuilt for a resend (invalid %(fields)s)", fields=fields)
            if fields
            else N_("it cannot be rebuilt for a resend (invalid fields)")
        )
        return _give_up(service, record, why)


def _refused(service: SmsService, record: AuditRecord, code: str) -> AttemptResult:
    if code == REFUSED:
        note = N_(
            "not sent: the attempt did not go out, and the process that sent it "
            "stopped before recording that; it was not sent again"
        )
    else:
        note = N_(
            "not sent: Octopush refused it (code %(code)s), and the process that sent "
            "it stopped before recording that; it was not sent again",
            code=code,
        )
    result = AttemptResult(
        status=AuditStatus.FAILED,
        error_code=None if code == REFUSED else code,
        error_message=note,
    )
    service.store.complete(record.id, result)
    return result


def _give_up(service: SmsService, record: AuditRecord, why: str) -> AttemptResult:
    result = unknown_result(why)
    service.store.complete(record.id, result)
    return result


class PendingSweeper:
    """Runs :func:`recover_pending` now and every ``interval`` seconds, until stopped."""

    def __init__(
        self,
        service: SmsService,
        *,
        interval: float = SWEEP_SECONDS,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self._service = service
        self._interval = interval
        self._report = report
        self._stop = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="sms-bot-sweep", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def sweep(self) -> list[Settled]:
        """One pass; a failure is logged and the next pass tries again."""
        try:
            return recover_pending(self._service, report=self._report)
        except Exception:
            logger.exception(
                "sweep of pending audit records failed; next in %s s", self._interval
            )
            return []

    def _loop(self) -> None:
        self.sweep()
        while not self._stop.wait(self._interval):
            self.sweep()


def start_recovery(
    service: SmsService,
    *,
    report: Callable[[str], None] | None = None,
    interval: float = SWEEP_SECONDS,
) -> PendingSweeper:
    """Sweep at once and then periodically on a daemon thread (start-up is not delayed)."""
    sweeper = PendingSweeper(service, interval=interval, report=report)
    sweeper.start()
    return sweeper
