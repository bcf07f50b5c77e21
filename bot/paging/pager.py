"""On-call paging: text the right person, track the acknowledgement, escalate on silence.

Slack-free: the Slack layer posts what these functions return. Pages and their timers
live in the audit database (:mod:`bot.audit.pages`), so escalation survives a restart
and fires once across instances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.audit import AuditStore
from bot.audit.pages import Page, PageState, PageStore
from bot.directory.source import DirectorySource
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import InputError, PolicyError
from bot.i18n import DEFAULT_LANGUAGE, translator
from bot.sending.rules import MAX_TEXT_LENGTH, Resolver
from bot.sending.service import SmsService

logger = logging.getLogger(__name__)

#: Octopush collects replies only for mainland France (octopush-api.md, two-way SMS).
REPLIES_PREFIX = "+33"


@dataclass(frozen=True)
class Escalation:
    """What one due timer did: paged the next member, or ran out of members."""

    page: Page
    previous: str
    outcome: SendOutcome | None
    #: Why the next member could not be paged (a refusal by the rules or the policy).
    problem: str | None = None


class Pager:
    """Starts pages, acknowledges them and escalates the ones nobody acknowledged."""

    def __init__(
        self,
        *,
        service: SmsService,
        directory: DirectorySource,
        store: AuditStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.service = service
        #: ``SMS_LANGUAGE``: the words the bot adds to a page's SMS (never the text).
        self.sms_words = translator(language)
        self.directory = directory
        self.pages = PageStore(store)
        self._clock = clock

    def plan(self, who: str) -> tuple[tuple[str, ...], timedelta | None]:
        """Whom to page, in order, and after how long to move on.

        A rotation gives its on-call member then the others in turn; a group or a
        person is paged at once, with nobody to escalate to.
        """
        directory = self.directory.current()
        name = who.lower()
        rotation = directory.rotations.get(name)
        if rotation is not None:
            return tuple(
                rotation.escalation_order(self._clock())
            ), rotation.escalate_after
        return (name if directory.is_name(who) else who,), None

    def page(
        self,
        who: str,
        text: str,
        actor: Actor,
        *,
        resolve: Resolver | None,
        request_id: str,
    ) -> tuple[Page, SendOutcome]:
        """Page ``who`` (raises ``InputError``/``PolicyError`` like a send)."""
        members, escalate_after = self.plan(who)
        outcome = self._send(
            members[0], text, actor, resolve=resolve, request_id=request_id
        )
        page = self.pages.create(
            target=who.lower() if self.directory.current().is_name(who) else who,
            text=text,
            members=members,
            audit_id=outcome.audit_id,
            escalate_after=escalate_after,
            slack_team_id=actor.slack_team_id,
            slack_user_id=actor.slack_user_id,
            slack_channel_id=actor.slack_channel_id,
        )
        return page, outcome

    def acknowledge(self, page_id: int, *, by: str) -> Page | None:
        """Stop the escalation; None when the page was already acknowledged."""
        page = self.pages.acknowledge(page_id, by=by)
        if page is not None:
            logger.info("page #%s acknowledged by %s", page_id, by)
        return page

    def escalate_due(self, *, resolve: Resolver | None) -> list[Escalation]:
        """Fire every due timer once; safe to call from several instances at once."""
        done = []
        for due in self.pages.due():
            claimed = self.pages.claim_escalation(due)
            if claimed is None:
                continue  # another instance took it
            if claimed.state is PageState.EXHAUSTED:
                logger.warning("page #%s: nobody acknowledged", claimed.id)
                done.append(Escalation(claimed, due.current_member, None))
                continue
            actor = Actor(
                source=Source.PAGE,
                slack_team_id=claimed.slack_team_id,
                slack_user_id=claimed.slack_user_id,
                slack_channel_id=claimed.slack_channel_id,
            )
            words = self.sms_words
            note = " " + words.gettext(
                "(escalated: %(member)s did not acknowledge)",
                member=due.current_member,
            )
            text = (claimed.text or words.gettext("Page"))[
                : MAX_TEXT_LENGTH - len(note)
            ] + note
            try:
                outcome = self._send(
                    claimed.current_member,
                    text,
                    actor,
                    resolve=resolve,
                    request_id=f"page-{claimed.id}-{claimed.member_index}",
                )
            except (InputError, PolicyError) as refusal:
                # The timer stays armed: the member after this one is tried next time.
                logger.error(
                    "page #%s: cannot page %s: %s",
                    claimed.id,
                    claimed.current_member,
                    refusal,
                )
                done.append(
                    Escalation(claimed, due.current_member, None, problem=str(refusal))
                )
                continue
            updated = self.pages.add_audit_id(
                claimed, outcome.audit_id
            ) or self.pages.get(claimed.id)
            done.append(Escalation(updated, due.current_member, outcome))
        return done

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
            request = (
                None  # send() records the refusal in the audit trail, then raises it
            )
        if request is not None and all(
            n.startswith(REPLIES_PREFIX) for n in request.recipients
        ):
            draft = draft.model_copy(update={"with_replies": True})
        return self.service.send(
            draft, actor.model_copy(update={"source": Source.PAGE}), resolve=resolve
        )
