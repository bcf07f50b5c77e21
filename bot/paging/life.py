"""A page's life after it starts: resolve it (and say so by SMS), escalate it now.

Resolving is one compare-and-set on the page (:class:`~bot.audit.pages.PageLifeStore`),
so when a resolved alert and a ``RES`` reply race, one of them texts ``RESOLVED``.
That SMS goes to every number the page texted, under one request id per page, so a
retried resolve is recognised by the send path and nobody is texted twice.
Escalating now makes the page's timer due: the escalation loop moves it exactly
once, with every guarantee a timer has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.audit import AuditStore
from bot.audit.alerts import AlertKeys, detail_of
from bot.audit.pages import Page
from bot.domain import Actor, Purpose, SendDraft, SendOutcome, SmsType, Source
from bot.errors import InputError, PolicyError
from bot.paging.page_text import GSM_ONE_SMS, fit, page_body
from bot.paging.pager import Pager
from bot.sending.rules import Resolver

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    """What resolving did: the page, and the RESOLVED SMS (None when not sent)."""

    page: Page
    sms: SendOutcome | None = None
    #: Why the RESOLVED SMS did not go (plain words), if it did not.
    problem: str | None = None


class PageLife:
    """Resolve and escalate pages; ``resolved_sms`` is ``SMS_RESOLVED_SMS``."""

    def __init__(
        self, pager: Pager, store: AuditStore, *, resolved_sms: bool = True
    ) -> None:
        self.pager = pager
        self.resolved_sms = resolved_sms
        self._keys = AlertKeys(store)
        self._store = store

    def resolve(
        self,
        page_id: int,
        *,
        by: str,
        summary: str | None = None,
        resolve: Resolver | None = None,
    ) -> Resolution | None:
        """Close the page; None when it was resolved already (nothing sent again)."""
        page = self.pager.pages.resolve(page_id, by=by)
        if page is None:
            return None
        logger.info("page #%s resolved by %s", page_id, by)
        # Resolved by hand: its alert's next firing may page again (flapping bound).
        self._keys.page_closed(page_id)
        if not self.resolved_sms:
            return Resolution(page)
        numbers = sorted(self.pager.pages.numbers_texted(page))
        if not numbers:
            return Resolution(page)
        words = self.pager.sms_words
        if summary is None:  # resolved by hand: the alert's newest summary, if any
            detail = detail_of(self._store, page.id)
            summary = detail.summary if detail is not None else None
        head = words.gettext("RESOLVED #%(n)s:", n=page.id) + " "
        body = summary or page_body(words, page.id, page.text) or words.gettext("Page")
        draft = SendDraft(
            recipients=tuple(numbers),
            text=head + fit(body, head)[:GSM_ONE_SMS],
            sms_type=SmsType.PREMIUM,
            purpose=Purpose.ALERT,
            request_id=f"page-{page.id}-resolved",
        )
        actor = Actor(
            source=Source.ESCALATION,
            slack_team_id=page.slack_team_id,
            slack_channel_id=page.slack_channel_id,
        )
        try:
            outcome = self.pager.service.send(draft, actor, resolve=resolve)
        except (InputError, PolicyError) as refusal:
            logger.warning("page #%s: RESOLVED SMS refused: %s", page.id, refusal)
            return Resolution(page, None, refusal.message)
        return Resolution(page, outcome)

    def escalate(self, page_id: int) -> Page | None:
        """Pass the page on now; None when it is resolved or has nobody left."""
        page = self.pager.pages.escalate_now(page_id)
        if page is not None:
            logger.info("page #%s: escalation asked for now", page_id)
        return page
