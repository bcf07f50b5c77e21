"""The daily purge ``serve`` runs by itself (``SMS_AUDIT_RETENTION_DAYS``).

Every instance (every gunicorn worker) runs the loop; a notice keyed by the UTC day,
claimed in the shared audit store, lets exactly one of them purge that day. What was
removed is announced in ``SMS_ADMIN_CHANNEL``, in the workspace's language (a channel
post: ``SMS_LANGUAGE``, the process default once the Slack app is built).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.audit import AuditStore
from bot.audit.notices import Notices
from bot.i18n import translator

logger = logging.getLogger(__name__)

#: How often each instance looks whether today's purge is done (it runs once a day).
CHECK_SECONDS = 600.0
NOTICE_PREFIX = "housekeeping:purge:"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Housekeeping:
    """Applies the retention once per UTC day across every instance."""

    def __init__(
        self,
        store: AuditStore,
        *,
        retention_days: int,
        announce: Callable[[str], None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._notices = Notices(store)
        self._days = retention_days
        self._announce = announce
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Purge if no instance did today; how many records went, or None (not ours)."""
        now = self._clock()
        key = NOTICE_PREFIX + now.astimezone(UTC).date().isoformat()
        if not self._notices.claim(key):
            return None
        try:
            removed = self._store.purge(older_than=now - timedelta(days=self._days))
        except Exception:
            self._notices.release(key)  # let the next pass (any instance) try again
            raise
        logger.warning(
            "housekeeping: removed %s audit records older than %s days",
            removed,
            self._days,
        )
        if removed:
            self._announce(
                translator().ngettext(
                    "🧹 Housekeeping: removed %(n)s audit record older than %(days)s "
                    "days (SMS_AUDIT_RETENTION_DAYS).",
                    "🧹 Housekeeping: removed %(n)s audit records older than %(days)s "
                    "days (SMS_AUDIT_RETENTION_DAYS).",
                    removed,
                    days=self._days,
                )
            )
        return removed

    def start(self, interval: float = CHECK_SECONDS) -> threading.Thread:
        """Check now, then every ``interval`` seconds, until :meth:`stop`."""

        def loop() -> None:
            while True:
                try:
                    self.run_once()
                except Exception:
                    logger.exception(
                        "housekeeping pass failed; retrying in %s s", interval
                    )
                if self._stop.wait(interval):
                    return

        thread = threading.Thread(target=loop, name="sms-bot-housekeeping", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop; wait (up to ``timeout``) for a pass in progress to end."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
