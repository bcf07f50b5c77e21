"""Read-only: the alert behind a page, for its Slack post (the Slack layer reads the
audit store through here, like :mod:`bot.paging.tracking`)."""

from __future__ import annotations

from bot.audit import AuditStore
from bot.audit.alerts import AlertDetail, detail_of
from bot.errors import AuditStoreError


class AlertView:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def detail(self, page_id: int) -> AlertDetail | None:
        """None for a page started in Slack, or when the database cannot say."""
        try:
            return detail_of(self._store, page_id)
        except AuditStoreError:
            return None


__all__ = ["AlertDetail", "AlertView"]
