"""Read-only views the Slack layer needs of sends and pages: records and their receipts.

The Slack code reads through here instead of the audit store, so the store stays behind
the sending and paging layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.audit import AuditRecord, AuditStore
from bot.audit.deliveries import Delivery, DeliveryLog
from bot.audit.pages import Page


class DeliveryTracker:
    """Audit records and delivery receipts, by audit id or by page."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store
        self._deliveries = DeliveryLog(store)

    def record(self, audit_id: int) -> AuditRecord:
        return self._store.get(audit_id)

    def for_audit(self, audit_id: int) -> Sequence[Delivery]:
        return self._deliveries.for_audit(audit_id)

    def for_page(
        self, page: Page, sms_ids: Sequence[int] | None = None
    ) -> list[Delivery]:
        """The receipts of the page's SMS: ``sms_ids`` when given (see
        :meth:`~bot.audit.pages.PageStore.sms_ids`), else the audit ids it recorded."""
        found: list[Delivery] = []
        for audit_id in page.audit_ids if sms_ids is None else sms_ids:
            if audit_id:
                found.extend(self._deliveries.for_audit(audit_id))
        return found
