"""What Octopush tells us back: delivery receipts, replies and STOP opt-outs.

Slack-free: the processor records each event and calls the listener the Slack layer
gave it (update a post, post a reply in a thread). Duplicates and unknown tickets are
expected (Octopush retries and ordering are undocumented) and handled quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.audit import AuditRecord, AuditStore, OptOutList
from bot.audit.deliveries import DeliveryLog
from bot.audit.pages import Page
from bot.directory.source import DirectorySource
from bot.domain import Actor, Purpose, SendDraft, SmsType, Source
from bot.errors import InputError, PolicyError
from bot.i18n import N_
from bot.log import mask_number
from bot.octopush import (
    CallbackEvent,
    DeliveryReceipt,
    DeliveryStatus,
    InboundReply,
    OptOut,
    is_ack_word,
    is_stop_word,
)
from bot.paging.life import PageLife, Resolution
from bot.paging.pager import Pager, PageRun
from bot.paging.replies import ACK, ESCALATE, RESOLVE, ReplyCommand, read_command
from bot.paging.voice import ACK_KEY
from bot.sending.rules import Resolver

logger = logging.getLogger(__name__)

#: Receipt statuses that a later non-final receipt never replaces.
FINAL_STATUSES = tuple(status.value for status in DeliveryStatus if status.is_final)

#: How far back a reply without a page number looks for the sender's open pages.
OPEN_PAGES_WITHIN = timedelta(days=1)

#: The end of a stored ``acknowledged_by`` for a page acknowledged by SMS reply.
_BY_SMS_SUFFIX = " by SMS"
#: The same for a page acknowledged by a key pressed during a call.
_BY_CALL_SUFFIX = " by call"


def by_sms(who: str) -> str:
    """``alice (+33 6 •• •• •• 78) by SMS``: English in the page record, and
    translated where shown (``tr.gettext(by_sms(name))``)."""
    return N_("%(who)s by SMS", who=who)


def sms_acknowledger(acknowledged_by: str | None) -> str | None:
    """Who acknowledged by SMS, read back from a stored ``acknowledged_by``, else None.

    The page record keeps English (the audit trail does); a surface shows it in its
    reader's words with ``tr.gettext(by_sms(name))``.
    """
    if acknowledged_by and acknowledged_by.endswith(_BY_SMS_SUFFIX):
        return acknowledged_by.removesuffix(_BY_SMS_SUFFIX)
    return None


def by_call(who: str) -> str:
    """``alice (+33 6 •• •• •• 78) by call``: like :func:`by_sms`, for a key pressed
    during a page's call."""
    return N_("%(who)s by call", who=who)


def call_acknowledger(acknowledged_by: str | None) -> str | None:
    """Who acknowledged by a call, read back from a stored ``acknowledged_by``."""
    if acknowledged_by and acknowledged_by.endswith(_BY_CALL_SUFFIX):
        return acknowledged_by.removesuffix(_BY_CALL_SUFFIX)
    return None


class InboundListener(Protocol):
    """What the Slack layer does with each kind of event."""

    def receipt(self, record: AuditRecord) -> None: ...

    def reply(
        self,
        record: AuditRecord | None,
        who: str,
        text: str,
        *,
        not_paged: bool = False,
    ) -> None: ...

    def opted_out(
        self, record: AuditRecord | None, who: str, rotations: Sequence[str] = ()
    ) -> None: ...

    def acknowledged(self, page: Page) -> None: ...

    def failed_over(self, run: PageRun) -> None: ...

    def resolved(self, resolution: Resolution) -> None: ...

    def escalated(self, page: Page, who: str) -> None: ...

    def called(self, page: Page, member: str, receipt: DeliveryReceipt) -> None: ...


#: Receipts that say a page SMS will never reach its member: page the next one at once.
FAILOVER_STATUSES = frozenset(
    {
        DeliveryStatus.NOT_DELIVERED,
        DeliveryStatus.BAD_DESTINATION,
        DeliveryStatus.BLACKLISTED_NUMBER,
        DeliveryStatus.NOT_ALLOWED,
        # A call that did not reach its member (issue 22).
        DeliveryStatus.NOT_DELIVERABLE,
        DeliveryStatus.BUSY,
        DeliveryStatus.REFUSED,
    }
)


@dataclass(frozen=True)
class InboundOutcome:
    """What handling one event changed (for logs and tests)."""

    kind: str
    audit_id: int | None
    changed: bool


class InboundProcessor:
    """Handles one parsed callback event at a time; thread-safe."""

    def __init__(
        self,
        *,
        store: AuditStore,
        directory: DirectorySource,
        listener: InboundListener,
        pager: Pager | None = None,
        ack_words: Sequence[str] = ("ACK", "OK"),
        resolve: Resolver | None = None,
        life: PageLife | None = None,
    ) -> None:
        self._store = store
        self._deliveries = DeliveryLog(store)
        self._optouts = OptOutList(store)
        self._directory = directory
        self._listener = listener
        self._pager = pager
        self._ack_words = tuple(ack_words)
        self._resolve = resolve
        #: ``RES`` and ``ESC`` replies (resolve, pass on); ACK needs only the pager.
        self._life = life

    def handle(self, event: CallbackEvent) -> InboundOutcome:
        """The one entry point: record ``event``, then tell the listener."""
        if isinstance(event, DeliveryReceipt):
            return self._receipt(event)
        if isinstance(event, InboundReply):
            return self._reply(event)
        return self._opt_out(event)

    def who(self, number: str) -> str:
        """The directory name of a number, else the number masked."""
        name = self._directory.current().name_for_number(number)
        return f"{name} ({mask_number(number)})" if name else mask_number(number)

    def rotations_of(self, number: str) -> list[str]:
        """The rotations the person with this number is a member of."""
        directory = self._directory.current()
        name = directory.name_for_number(number)
        if name is None:
            return []
        return [r.name for r in directory.rotations.values() if name in r.members]

    def _receipt(self, event: DeliveryReceipt) -> InboundOutcome:
        record = self._store.find_by_ticket(event.message_id)
        # A late, older receipt (ACK after DELIVERED) must not undo the final state:
        # the log checks that in the same statement that writes.
        changed = self._deliveries.record(
            audit_id=record.id if record else None,
            message_id=event.message_id,
            number=event.number,
            status=event.status.value,
            raw_status=event.raw_status,
            final_statuses=FINAL_STATUSES,
        )
        if record is None:
            logger.info(
                "receipt for unknown ticket %s (%s)",
                event.message_id,
                event.status.value,
            )
        elif changed:
            if not record.slack_message_ts:
                # Read before the receipt was stored: its post may have been
                # remembered since, having read the receipts before this one.
                record = self._store.get_after_writer(record.id)
            self._listener.receipt(record)
            if record.sms_type == SmsType.VOICE.value:
                self._call_receipt(record, event)
            if event.status in FAILOVER_STATUSES:
                self._fail_over(
                    record.id, N_("%(status)s receipt", status=event.status.value)
                )
        elif event.status in FAILOVER_STATUSES and self._still(event):
            # Stored by an earlier try whose listener or failover raised: the
            # failover is re-driven until done (the page's compare-and-set and the
            # move's request id make a done one change nothing).
            self._fail_over(
                record.id, N_("%(status)s receipt", status=event.status.value)
            )
        return InboundOutcome("receipt", record.id if record else None, changed)

    def _call_receipt(self, record: AuditRecord, event: DeliveryReceipt) -> None:
        """A page call's receipt: the acknowledge key pressed acknowledges the page.

        Keys arrive only here, after the call ended. A receipt without keys (or
        with other keys) infers nothing: the page stays open and its timers run.
        A call that did not reach its member fails over (FAILOVER_STATUSES).
        """
        if self._pager is None:
            return
        call = self._pager.calls.call_of(record.id)
        if call is None:
            return
        page = self._pager.pages.get(call.page_id)
        member = page.members[call.member_index]
        if event.pressed_keys == ACK_KEY and event.status is DeliveryStatus.DELIVERED:
            acknowledged = self._pager.acknowledge(
                page.id, by=by_call(self.who(event.number))
            )
            if acknowledged is not None:
                self._listener.acknowledged(acknowledged)
            return
        if event.status not in FAILOVER_STATUSES:
            self._listener.called(page, member, event)

    def _still(self, event: DeliveryReceipt) -> bool:
        """Is ``event`` still the recipient's latest receipt (not replaced since)?"""
        stored = self._deliveries.status_of(
            message_id=event.message_id, number=event.number
        )
        return stored == event.status.value

    def _fail_over(self, audit_id: int, reason: str) -> None:
        if self._pager is None:
            return
        run = self._pager.fail_over(audit_id, reason=reason, resolve=self._resolve)
        if run is not None:
            try:
                self._listener.failed_over(run)
            except Exception:
                # The next member was texted: a retried callback would find the move
                # done and could not tell it again, so it is logged, not retried.
                logger.exception(
                    "page #%s failed over, but telling Slack failed", run.page.id
                )

    def _reply(self, event: InboundReply) -> InboundOutcome:
        record = (
            self._store.find_by_ticket(event.message_id) if event.message_id else None
        )
        who = self.who(event.number)
        if is_stop_word(event.text):
            return self._stop(event.number, event.message_id, record, who)
        command = read_command(event.text, self._ack_words)
        if command is None and is_ack_word(event.text, self._ack_words):
            command = ReplyCommand(ACK, None)
        page = self._page_of(record, command, event.number)
        if page is None or self._pager is None:
            self._listener.reply(record, who, event.text)
            return InboundOutcome("reply", record.id if record else None, True)
        if record is None and any(page.audit_ids):
            # Found by its number or the sender: its thread is the page's first SMS's.
            record = self._store.get(next(i for i in page.audit_ids if i))
        # Only a number this page texted may act on it; anyone else is a reply.
        paged = event.number in self._pager.pages.numbers_texted(page)
        self._listener.reply(record, who, event.text, not_paged=not paged)
        if paged and command is not None:
            self._act(command.verb, page, who)
        return InboundOutcome("reply", record.id if record else None, True)

    def _page_of(
        self,
        record: AuditRecord | None,
        command: ReplyCommand | None,
        number: str,
    ) -> Page | None:
        """The page a reply is about: the number it names, else the page of the SMS
        it answers, else the sender's only open page (several: it asks which)."""
        if self._pager is None:
            return None
        pages = self._pager.pages
        if command is not None and command.page_id is not None:
            return pages.find(command.page_id)
        if record is not None:
            # A reply to one of our SMS is about that SMS: never another page.
            return pages.for_audit(record.id)
        if command is None:
            return None
        since = self._pager.now() - OPEN_PAGES_WITHIN
        mine = [p for p in pages.unresolved(since) if number in pages.numbers_texted(p)]
        if len(mine) > 1:
            self._ask_which(number, mine, command.verb)
            return None
        return mine[0] if mine else None

    def _ask_which(self, number: str, open_pages: list[Page], verb: str) -> None:
        """Several open pages and no number: ask which, by SMS."""
        if self._pager is None:
            return
        words = self._pager.sms_words
        word = {ACK: "ACK", RESOLVE: "RES", ESCALATE: "ESC"}[verb]
        numbers = ", ".join(f"#{page.id}" for page in open_pages[:5])
        text = words.gettext(
            "Which page? You have %(pages)s open: reply %(word)s with its number, "
            "e.g. %(word)s %(first)s.",
            pages=numbers,
            word=word,
            first=open_pages[0].id,
        )
        draft = SendDraft(
            recipients=(number,),
            text=text,
            sms_type=SmsType.PREMIUM,
            purpose=Purpose.ALERT,
            with_replies=True,
        )
        try:
            self._pager.service.send(
                draft, Actor(source=Source.ESCALATION), resolve=self._resolve
            )
        except (InputError, PolicyError) as refusal:
            logger.warning("asking which page was refused: %s", refusal)

    def _act(self, verb: str, page: Page, who: str) -> None:
        if self._pager is None:
            return
        if verb == ACK:
            acknowledged = self._pager.acknowledge(page.id, by=by_sms(who))
            if acknowledged is not None:
                self._listener.acknowledged(acknowledged)
            return
        if self._life is None:
            return
        if verb == RESOLVE:
            resolution = self._life.resolve(
                page.id, by=by_sms(who), resolve=self._resolve
            )
            if resolution is not None:
                self._listener.resolved(resolution)
            return
        escalated = self._life.escalate(page.id)
        if escalated is not None:
            self._listener.escalated(escalated, who)

    def _opt_out(self, event: OptOut) -> InboundOutcome:
        record = (
            self._store.find_by_ticket(event.message_id) if event.message_id else None
        )
        return self._stop(
            event.number, event.message_id, record, self.who(event.number)
        )

    def _stop(
        self, number: str, message_id: str | None, record: AuditRecord | None, who: str
    ) -> InboundOutcome:
        added = self._optouts.add(number, source="callback", message_id=message_id)
        if added:
            logger.warning("%s opted out (STOP)", mask_number(number))
            self._listener.opted_out(record, who, self.rotations_of(number))
        if record is not None:
            self._fail_over(record.id, N_("replied STOP"))
        return InboundOutcome("opt-out", record.id if record else None, added)
