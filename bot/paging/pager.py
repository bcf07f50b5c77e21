"""On-call paging: text the right person, fail over at once, escalate on silence.

Slack-free: the Slack layer posts what these functions return. Pages and their timers
live in the audit database (:mod:`bot.audit.pages`). Every move of a page to its next
member (timer, failed receipt, refused number) is one compare-and-set on the page's
version, so across instances exactly one of them texts the next member.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from bot.audit import AuditStore
from bot.audit.calls import PageCalls
from bot.audit.pages import MOVE_GRACE, Page, PageLifeStore, PageState
from bot.directory.source import DirectorySource
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import AuditStoreError, InputError, PolicyError
from bot.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from bot.paging.overrides import Overrides
from bot.paging.plan import PagePlan, plan_page
from bot.paging.runs import Attempt, Escalation, PageRun
from bot.paging.voice import call_draft, call_text
from bot.sending.attempts import new_request_id
from bot.sending.rules import MAX_TEXT_LENGTH, Resolver
from bot.sending.service import SmsService

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Octopush collects replies only for mainland France (octopush-api.md, two-way SMS).
REPLIES_PREFIX = "+33"

#: Refusals about the person paging (not the member paged): they end the page at once.
PAGE_LEVEL_RULES = frozenset(
    {"SMS_ALLOWED_USERS", "SMS_ALLOWED_CHANNELS", "SMS_RATE_LIMIT", "SMS_DAILY_BUDGET"}
)

#: Tries of a page write after an SMS left (audit id, next member), and the pause
#: before each retry: bounded, the page post waits for them.
WRITE_TRIES = 3
WRITE_PAUSE_S = 0.05

#: Claims of a failover tried again when the page changed under them without
#: moving (its timer re-armed, an audit id recorded): bounded, each is one read.
CLAIM_RETRIES = 5


class Pager:
    """Starts pages, fails over, acknowledges and escalates the ones nobody acknowledged."""

    def __init__(
        self,
        *,
        service: SmsService,
        directory: DirectorySource,
        store: AuditStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        allowed_users: tuple[str, ...] = (),
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.service = service
        #: ``SMS_LANGUAGE``: the words the bot adds to a page's SMS (never the text).
        self.sms_words = translator(language)
        self.directory = directory
        #: The time seam: pages, timers and rotations all read the time from here.
        self.clock = clock
        self.pages = PageLifeStore(store, clock=self.now)
        #: The voice step's timers and calls (a rotation's ``call_after``).
        self.calls = PageCalls(store, clock=self.now)
        #: On-call overrides, shared by every instance through the audit database.
        self.overrides = Overrides(
            store,
            clock=self.now,
            allowed_users=allowed_users,
            check_actor=service.check_actor,
        )

    def now(self) -> datetime:
        return self.clock()

    def plan(self, who: str) -> PagePlan:
        """Whom to page, in order, and after how long to move on (see :mod:`plan`)."""
        return plan_page(
            self.directory.current(),
            who,
            at=self.now(),
            override=self.overrides.covering,
        )

    def page(
        self,
        who: str,
        text: str,
        actor: Actor,
        *,
        resolve: Resolver | None,
        request_id: str,
        text_for: Callable[[int], str] | None = None,
    ) -> PageRun:
        """Page ``who``; a rotation member who cannot be texted passes it on at once.

        ``text_for`` writes the SMS text once the page's number is known (alerts'
        ``[sms-bot #12] …``); escalations carry that text.

        Raises ``InputError``/``PolicyError`` like a send when the page cannot start:
        a refusal about the person paging, or any refusal of a page to one person or
        group. The page record exists before the first SMS, so a refused member of a
        rotation hands over to the next one instead of ending the page.
        """
        plan = self.plan(who)
        page = self.pages.create(
            target=plan.target,
            text=text,
            members=plan.members,
            escalate_after=plan.escalate_after,
            slack_team_id=actor.slack_team_id,
            slack_user_id=actor.slack_user_id,
            slack_channel_id=actor.slack_channel_id,
            request_id=request_id,
            call_after=plan.call_after,
        )
        try:
            if text_for is not None:  # no SMS yet: a failure discards the page
                text = text_for(page.id)
                page = self.pages.set_text(page, text)
            first = self._attempt(
                plan.members[0],
                text,
                actor,
                resolve=resolve,
                request_id=request_id,
                raises="page-level" if plan.rotation else "all",
            )
        except (InputError, PolicyError):
            self.pages.discard(page.id)
            raise
        except Exception:
            # Nothing raises once Octopush is called: no SMS left, so the page must
            # not escalate later in the name of a page the person was told failed.
            self._discard_quietly(page.id)
            raise
        if first.outcome is not None and first.outcome.duplicate:
            self.pages.discard(page.id)
            return PageRun(page, (first,))
        # From here an SMS may be out: a failed write is said, never raised, and the
        # page keeps what ACK and escalation need (request id and timer, written
        # with the page before the SMS).
        attempts: list[Attempt] = [first]
        problems: list[str] = []
        try:
            page = self._remember(page, first, problems)
            if first.reached or not plan.rotation:
                return self._run(page, attempts, cause="page", problems=problems)
            run = self._move_on(
                page,
                attempts,
                cause="page",
                previous=page.current_member,
                resolve=resolve,
                problems=problems,
            )
            return run or self._run(
                self.pages.get(page.id), attempts, cause="page", problems=problems
            )
        except Exception as error:  # the SMS is out: never hide it behind this
            logger.exception("page #%s: a step after the SMS failed", page.id)
            problems.append(_failed_step(error))
            return self._run(page, attempts, cause="page", problems=problems)

    def acknowledge(self, page_id: int, *, by: str) -> Page | None:
        """Stop the escalation; None when the page was already acknowledged."""
        page = self.pages.acknowledge(page_id, by=by)
        if page is not None:
            logger.info("page #%s acknowledged by %s", page_id, by)
        return page

    def escalate_due(self, *, resolve: Resolver | None) -> list[PageRun]:
        """Fire every due timer once; safe to call from several instances at once."""
        done = []
        for due in self.pages.due():
            if self.pages.never_started(due):
                if self.now() - due.created_at >= MOVE_GRACE:
                    # Its first send failed and the discard failed with it: the
                    # person was told the page failed, so it is never escalated.
                    logger.warning("page #%s never started: discarded", due.id)
                    self._discard_quietly(due.id)
                continue  # else its first send may still be on its way: look again
            unsent = self.pages.unsent_request(due)
            if unsent is not None:  # the member the last move claimed was not texted
                run = self._resume(due, unsent, cause="escalation", resolve=resolve)
            elif (sms := self.pages.unrecorded_sms(due)) is not None:
                # The move texted its member, then stopped before recording it: the
                # grace ran out, not the member's time. Record it, which re-arms
                # the timer to escalate_after from now; the member is never skipped.
                logger.warning(
                    "page #%s: recording the SMS to %s that its move left unrecorded",
                    due.id,
                    due.current_member,
                )
                self.pages.add_audit_id(due, sms)
                continue
            else:
                run = self._move_on(
                    due,
                    [],
                    cause="escalation",
                    previous=due.current_member,
                    resolve=resolve,
                )
            if run is not None:
                done.append(run)
        return done

    def fail_over(
        self, audit_id: int, *, reason: str, resolve: Resolver | None
    ) -> PageRun | None:
        """The SMS ``audit_id`` will not reach its member: page the next one at once.

        Only for the current member's attempt of an open rotation page; a receipt for
        an earlier member, or a page another instance already moved, changes nothing.
        Safe to call again for the same receipt (a retried callback): a move that was
        claimed but whose SMS never went out is finished (:meth:`_resume`), a done one
        changes nothing.
        """
        call = self.calls.call_of(audit_id)
        if call is not None:  # a call that did not reach its member
            return self._call_failed(call.page_id, call.member_index, reason, resolve)
        page = self.pages.for_audit(audit_id)
        if page is None or page.state is not PageState.OPEN or len(page.members) < 2:
            return None
        index = self.pages.attempt_index(page, audit_id)
        if index is not None and index == page.member_index - 1:
            unsent = self.pages.unsent_request(page)
            if unsent is None:
                return None  # the move from this member was done
            return self._resume(
                page, unsent, cause="failover", reason=reason, resolve=resolve
            )
        if index != page.member_index:
            return None
        logger.warning(
            "page #%s: %s cannot be reached (%s); failing over",
            page.id,
            page.current_member,
            reason,
        )
        return self._move_on(
            page,
            [],
            cause="failover",
            previous=page.current_member,
            reason=reason,
            resolve=resolve,
        )

    def call_due(self, *, resolve: Resolver | None) -> list[PageRun]:
        """Call each member on call whose page SMS went unacknowledged for the
        rotation's ``call_after``; safe from several instances at once.

        Each call is claimed (compare-and-set, with its request id) before it is
        made, so exactly one instance calls, once. The call is an attempt of the one
        send path (``sms_type`` ``voice``); a refusal is said in the run, and the
        escalation timer goes on.
        """
        runs = []
        for page, call in self.calls.unsent():  # claimed, then the sender stopped
            logger.warning("page #%s: resuming a call never made", page.id)
            run = self._call(page, call.request_id, resolve)
            if run is not None:
                runs.append(run)
        for due in self.calls.due():
            request_id = new_request_id()
            claimed = self.calls.claim(due, request_id=request_id)
            if claimed is None:
                continue  # another instance called, or the page moved on
            run = self._call(claimed, request_id, resolve)
            if run is not None:
                runs.append(run)
        return runs

    def _call(
        self, page: Page, request_id: str, resolve: Resolver | None
    ) -> PageRun | None:
        """Call the page's current member under ``request_id`` (its claim's); None
        when that call was made already (a duplicate: nobody is called twice)."""
        member = page.current_member
        text = call_text(page, member, self.sms_words, ack_word="ACK")
        attempt = self._attempt(
            member,
            text,
            _system_actor(page),
            resolve=resolve,
            request_id=request_id,
            draft=call_draft(text, member, request_id),
        )
        if attempt.outcome is not None and attempt.outcome.duplicate:
            return None
        logger.info("page #%s: called %s", page.id, member)
        return PageRun(page, (attempt,), cause="call", previous=member)

    def _call_failed(
        self, page_id: int, index: int, reason: str, resolve: Resolver | None
    ) -> PageRun | None:
        """A call to ``members[index]`` did not reach them: the next member, at once.

        Only while that member is still the one on the page (a retried receipt, or a
        page another instance moved, changes nothing)."""
        page = self.pages.get(page_id)
        if (
            page.state is not PageState.OPEN
            or page.member_index != index
            or len(page.members) < 2
        ):
            return None
        logger.warning(
            "page #%s: the call to %s failed (%s); failing over",
            page.id,
            page.current_member,
            reason,
        )
        return self._move_on(
            page,
            [],
            cause="failover",
            previous=page.current_member,
            reason=reason,
            resolve=resolve,
        )

    def _resume(
        self,
        page: Page,
        request_id: str,
        *,
        cause: str,
        reason: str | None = None,
        resolve: Resolver | None,
    ) -> PageRun | None:
        """Finish a move to the current member that was claimed but never sent.

        A failover or timer claims the next member before texting them; when the
        sender stopped in between (a crash, a database failure), the retried receipt
        of the previous member or the next timer lands here. The move's grace timer
        is restarted by a compare-and-set (one instance wins; recording the SMS
        re-arms it to ``escalate_after``), and the SMS goes under the request
        id kept with the claim, so a send still under way elsewhere is recognised as
        a duplicate by the send path: nobody is texted twice. None when there is
        nothing left to do.
        """
        claimed = self.pages.rearm(page)
        if claimed is None:
            return None  # another instance moved or resumed the page
        previous = claimed.members[claimed.member_index - 1]
        logger.warning(
            "page #%s: resuming the move from %s to %s",
            claimed.id,
            previous,
            claimed.current_member,
        )
        problems: list[str] = []
        attempt = self._attempt(
            claimed.current_member,
            _escalated_text(
                self.sms_words, claimed.text, previous, cause == "failover"
            ),
            _system_actor(claimed),
            resolve=resolve,
            request_id=request_id,
        )
        if attempt.outcome is not None and attempt.outcome.duplicate:
            return None  # sent already, by the move itself
        attempts = [attempt]
        current = self._remember(claimed, attempt, problems)
        if attempt.reached:
            return self._run(current, attempts, cause, previous, reason, problems)
        return self._move_on(
            current,
            attempts,
            cause=cause,
            previous=previous,
            reason=reason,
            resolve=resolve,
            problems=problems,
        )

    def _move_on(
        self,
        page: Page,
        attempts: list[Attempt],
        *,
        cause: str,
        previous: str,
        reason: str | None = None,
        resolve: Resolver | None,
        problems: list[str] | None = None,
    ) -> PageRun | None:
        """Claim the next member (compare-and-set) and text them; on failure, the next.

        None when another instance claimed the move first. Each claim keeps the
        request id of the SMS it is about to send (see :meth:`_resume`).
        """
        problems = [] if problems is None else problems
        current = page
        retries = CLAIM_RETRIES
        while True:
            request_id = new_request_id()
            claimed = self.pages.claim_next(current, request_id=request_id)
            if claimed is None:
                fresh = self._unmoved(current, cause, attempts)
                if fresh is not None and retries > 0:
                    retries -= 1
                    current = fresh
                    continue
                if not attempts:
                    return None  # another instance took this move
                return self._run(current, attempts, cause, previous, reason, problems)
            if claimed.state is PageState.EXHAUSTED:
                return self._run(claimed, attempts, cause, previous, reason, problems)
            missed = attempts[-1].member if attempts else previous
            unreachable = bool(attempts) or cause == "failover"
            attempt = self._attempt(
                claimed.current_member,
                _escalated_text(self.sms_words, claimed.text, missed, unreachable),
                _system_actor(claimed),
                resolve=resolve,
                request_id=request_id,
            )
            if attempt.outcome is not None and attempt.outcome.duplicate:
                # A resumed move (see _resume) sent this member's SMS first: it
                # reports and carries the move on, not this one.
                if not attempts:
                    return None
                return self._run(claimed, attempts, cause, previous, reason, problems)
            attempts.append(attempt)
            current = self._remember(claimed, attempt, problems)
            if attempt.reached:
                return self._run(current, attempts, cause, previous, reason, problems)

    def _unmoved(self, page: Page, cause: str, attempts: list[Attempt]) -> Page | None:
        """The page as it is now, when a lost claim still has to move it on.

        A claim loses when the page's version moved: another instance moved it on
        or it was acknowledged (nothing to do), or only its timer or audit ids
        changed (a grace timer recording its member's SMS, a late write). A failed
        receipt or a failed attempt must move on regardless of the timer, so then
        the claim is tried again; a timer's move is not (its timer was re-armed).
        """
        if cause != "failover" and not attempts:
            return None
        fresh = self.pages.get(page.id)
        if fresh.state is not PageState.OPEN or fresh.member_index != page.member_index:
            return None
        return fresh

    def remember_post(self, page_id: int, *, channel: str, ts: str) -> str | None:
        """Remember the page's Slack post (trying a few times); the problem if not.

        Its receipts, thread notes and escalations find the post through it.
        """
        try:
            _retried(lambda: self.pages.set_message(page_id, channel=channel, ts=ts))
        except AuditStoreError as error:
            logger.exception("page #%s: remembering its post failed", page_id)
            return N_(
                "remembering the page's post failed (%(error)s): receipts and "
                "acknowledgements will not update it",
                error=type(error).__name__,
            )
        return None

    def _discard_quietly(self, page_id: int) -> None:
        try:
            self.pages.discard(page_id)
        except AuditStoreError:
            logger.exception("page #%s could not be discarded", page_id)

    def _remember(self, page: Page, attempt: Attempt, problems: list[str]) -> Page:
        """Record ``attempt``'s audit id on the page, trying a few times.

        When it still fails, the page goes on without it (it finds that SMS by the
        request id kept before the send) and ``problems`` says so.
        """
        try:
            return _retried(
                lambda: self.pages.add_audit_id(page, attempt.audit_id or 0)
            )
        except AuditStoreError as error:
            logger.exception(
                "page #%s: recording audit #%s failed", page.id, attempt.audit_id
            )
            problems.append(_failed_write(error))
            return page

    def _run(
        self,
        page: Page,
        attempts: list[Attempt],
        cause: str,
        previous: str | None = None,
        reason: str | None = None,
        problems: list[str] | None = None,
    ) -> PageRun:
        everyone_failed = page.state is PageState.EXHAUSTED and not any(
            attempt.reached for attempt in attempts
        )
        if everyone_failed:
            try:
                everyone_failed = not self.pages.numbers_texted(page)
            except AuditStoreError:
                logger.exception("page #%s: reading the numbers texted failed", page.id)
        return PageRun(
            page,
            tuple(attempts),
            cause,
            previous,
            reason,
            everyone_failed,
            tuple(problems or ()),
        )

    def _attempt(
        self,
        member: str,
        text: str,
        actor: Actor,
        *,
        resolve: Resolver | None,
        request_id: str,
        raises: str = "none",
        draft: SendDraft | None = None,
    ) -> Attempt:
        """Text one member; a refusal about that member becomes a failed attempt.

        ``raises``: ``all`` (a page to one person or group: nobody else to try),
        ``page-level`` (a rotation: a refusal about the person paging is raised, no
        other member would fare better) or ``none`` (the system's own sends).
        """
        try:
            outcome = (
                self.service.send(draft, actor, resolve=resolve)
                if draft is not None  # a call (see call_due)
                else self._send(
                    member, text, actor, resolve=resolve, request_id=request_id
                )
            )
        except PolicyError as refusal:
            if raises == "all" or (
                raises == "page-level" and refusal.rule in PAGE_LEVEL_RULES
            ):
                raise
            return Attempt(member, None, refusal.message, refusal.audit_id)
        except InputError as refusal:
            if raises == "all":
                raise
            return Attempt(member, None, refusal.message, refusal.audit_id)
        return Attempt(member, outcome, audit_id=outcome.audit_id)

    def _send(
        self,
        member: str,
        text: str,
        actor: Actor,
        *,
        resolve: Resolver | None,
        request_id: str,
    ) -> SendOutcome:
        draft = SendDraft(
            recipients=(member,),
            text=text,
            sms_type=SmsType.PREMIUM,
            purpose=Purpose.ALERT,
            request_id=request_id,
        )
        try:
            request = self.service.validate(draft, resolve=resolve)
        except InputError:
            request = None  # send() records the refusal in the audit trail, raises it
        if request is not None and all(
            n.startswith(REPLIES_PREFIX) for n in request.recipients
        ):
            draft = draft.model_copy(update={"with_replies": True})
        return self.service.send(draft, actor, resolve=resolve)


def _retried(write: Callable[[], _T]) -> _T:
    """``write()``, tried ``WRITE_TRIES`` times on ``AuditStoreError`` (a brief
    database failure), with a growing pause; the last error is raised."""
    for attempt in range(WRITE_TRIES - 1):
        try:
            return write()
        except AuditStoreError as error:
            logger.warning("page write failed (try %s): %s", attempt + 1, error)
            time.sleep(WRITE_PAUSE_S * 2**attempt)
    return write()


def _failed_write(error: AuditStoreError) -> str:
    """What failed after an SMS left, in plain words (translated where shown)."""
    return N_(
        "recording the page in the audit database failed (%(error)s)",
        error=type(error).__name__,
    )


def _failed_step(error: Exception) -> str:
    """Like :func:`_failed_write`, for any failure after the first SMS left."""
    if isinstance(error, AuditStoreError):
        return _failed_write(error)
    return N_(
        "a step after the SMS failed (%(error)s)",
        error=type(error).__name__,
    )


def _system_actor(page: Page) -> Actor:
    """Escalations are the system's sends: not counted against the person who paged."""
    return Actor(
        source=Source.ESCALATION,
        slack_team_id=page.slack_team_id,
        slack_channel_id=page.slack_channel_id,
    )


def _escalated_text(
    words: Translator, text: str | None, member: str, unreachable: bool
) -> str:
    """The page text (kept while the page is open) and why it comes to this member."""
    note = " " + (
        words.gettext("(escalated: %(member)s could not be reached)", member=member)
        if unreachable
        else words.gettext("(escalated: %(member)s did not acknowledge)", member=member)
    )
    return (text or words.gettext("Page"))[: MAX_TEXT_LENGTH - len(note)] + note


__all__ = ["Attempt", "Escalation", "PageRun", "Pager"]
