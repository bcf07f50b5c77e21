"""What a stored alert event does: open a page, update it, or resolve it.

Run by the alert worker (:mod:`bot.alerts.worker`) after the hook stored the event.
One open page per alert key, across instances (:class:`~bot.audit.alerts.AlertKeys`);
a firing alert while its page is open updates the post and never pages again; a
resolved one closes the page, stops its escalation and texts ``RESOLVED``. A key
closed less than ``repage_after`` ago does not open a new page (flapping).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.alerts.payloads import ACKNOWLEDGE, FIRING, AlertEvent, parse_stored
from bot.audit import AuditStore
from bot.audit.alerts import AlertInbox, AlertKeys, Claim, describe
from bot.audit.pages import Page
from bot.directory.model import Integration
from bot.directory.source import DirectorySource
from bot.domain import Actor, Source
from bot.errors import InputError, PolicyError
from bot.i18n import Translator
from bot.paging.life import PageLife, Resolution
from bot.paging.page_text import page_sms
from bot.paging.pager import PageRun
from bot.sending.rules import Resolver

logger = logging.getLogger(__name__)

#: How each sender is named in a page's SMS.
SENDERS = {"alertmanager": "Alertmanager", "events_v2": "Events API"}


class AlertListener(Protocol):
    """What the Slack layer shows of each outcome."""

    def opened(self, run: PageRun, integration: Integration) -> None: ...

    def updated(self, page: Page) -> None: ...

    def posted_only(self, integration: Integration, event: AlertEvent) -> None: ...

    def refused(
        self, integration: Integration, event: AlertEvent, reason: str
    ) -> None: ...

    def resolved(self, resolution: Resolution) -> None: ...

    def acknowledged(self, page: Page) -> None: ...


@dataclass(frozen=True)
class AlertOutcome:
    """What one event did (metrics, audit trail, logs)."""

    outcome: str
    page_id: int | None = None
    integration: str = "unknown"


class AlertHandler:
    """Handles one stored alert event at a time; thread-safe."""

    def __init__(
        self,
        *,
        store: AuditStore,
        directory: DirectorySource,
        life: PageLife,
        listener: AlertListener,
        resolve: Resolver | None = None,
        repage_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.inbox = AlertInbox(store)
        self.keys = AlertKeys(store)
        self.directory = directory
        self.life = life
        self._listener = listener
        self._resolve = resolve
        self._repage_after = repage_after

    @property
    def words(self) -> Translator:
        return self.life.pager.sms_words

    def handle(self, event_id: int, body: bytes) -> AlertOutcome:
        row = self.inbox.event(event_id)
        integration = self.directory.current().integrations.get(row.integration)
        if integration is None:  # removed from the file since the event was stored
            return AlertOutcome("unknown-integration")
        event = parse_stored(row.kind, body, row.dedup_key)
        if event.action == FIRING:
            outcome = self._firing(event_id, integration, event)
        elif event.action == ACKNOWLEDGE:
            outcome = self._acknowledge(integration, event)
        else:
            outcome = self._resolved(integration, event)
        self.inbox.set_page(event_id, outcome.page_id)
        return AlertOutcome(outcome.outcome, outcome.page_id, integration.name)

    def _firing(
        self, event_id: int, integration: Integration, event: AlertEvent
    ) -> AlertOutcome:
        if not integration.pages_for(event.severity):
            self._listener.posted_only(integration, event)
            return AlertOutcome("posted")
        state = self.keys.firing(
            integration.name, event.dedup_key, repage_after=self._repage_after
        )
        if state.claim is not Claim.OPEN:
            self._describe(integration, event)
            if state.page_id is not None:
                self._listener.updated(self.life.pager.pages.get(state.page_id))
            kind = "flapping" if state.claim is Claim.FLAPPING else "deduplicated"
            return AlertOutcome(kind, state.page_id)
        self._describe(integration, event)
        actor = Actor(source=Source.ESCALATION, slack_channel_id=integration.channel)
        body = self._body(integration, event)
        try:
            run = self.life.pager.page(
                integration.pages,
                body,
                actor,
                resolve=self._resolve,
                request_id=f"alert-{event_id}",
                text_for=lambda page_id: page_sms(self.words, page_id, body),
            )
        except (InputError, PolicyError) as refusal:
            self.keys.release(integration.name, event.dedup_key)
            self._listener.refused(integration, event, refusal.message)
            return AlertOutcome("refused")
        except Exception:
            self.keys.release(integration.name, event.dedup_key)
            raise
        if run.duplicate:  # a retried event whose page is out already
            return AlertOutcome("deduplicated")
        self.keys.opened(integration.name, event.dedup_key, run.page.id)
        self._listener.opened(run, integration)
        return AlertOutcome("opened", run.page.id)

    def _resolved(self, integration: Integration, event: AlertEvent) -> AlertOutcome:
        page_id = self.keys.resolved(integration.name, event.dedup_key)
        if page_id is None:
            return AlertOutcome("no-page")
        self._describe(integration, event)
        resolution = self.life.resolve(
            page_id,
            by=SENDERS.get(event.kind, event.kind),
            summary=event.summary or None,
            resolve=self._resolve,
        )
        if resolution is None:
            return AlertOutcome("no-page", page_id)
        self._listener.resolved(resolution)
        return AlertOutcome("resolved", page_id)

    def _acknowledge(self, integration: Integration, event: AlertEvent) -> AlertOutcome:
        page_id = self.keys.open_page(integration.name, event.dedup_key)
        if page_id is None:  # PagerDuty drops an ack for no open alert; so do we
            return AlertOutcome("no-page")
        page = self.life.pager.acknowledge(
            page_id, by=SENDERS.get(event.kind, event.kind)
        )
        if page is not None:
            self._listener.acknowledged(page)
        return AlertOutcome("acknowledged", page_id)

    def _describe(self, integration: Integration, event: AlertEvent) -> None:
        describe(
            self.store,
            integration.name,
            event.dedup_key,
            summary=event.summary,
            severity=event.severity,
            firing=event.firing,
            links=event.links,
        )

    def _body(self, integration: Integration, event: AlertEvent) -> str:
        """The page's SMS body: the integration's template, else the default."""
        fields = {
            "summary": event.summary,
            "severity": event.severity or "",
            "source": event.source or "",
            "integration": integration.name,
            "sender": SENDERS.get(event.kind, event.kind),
            "firing": str(event.firing),
        }
        template = integration.template(self.words.language)
        if template:
            try:
                return template.format_map(fields)
            except (KeyError, ValueError, IndexError):
                logger.warning(
                    "integration %s: its template is not usable", integration.name
                )
        where = ", ".join(v for v in (event.source, event.severity) if v)
        in_brackets = " (" + where + ")" if where else ""
        return self.words.gettext(
            "%(summary)s%(where)s, paged by %(sender)s.",
            summary=event.summary,
            where=in_brackets,
            sender=fields["sender"],
        )
