"""The audit side of cancelling a scheduled send: a claim, the outcome, the month's count.

A cancel claims the ``sent`` record first (``claimed_by``/``claimed_until``, unused on a
settled record otherwise), so a double press calls Octopush once; once Octopush said
yes, :meth:`CancelLedger.mark_cancelled` turns ``sent`` into ``cancelled`` only if it
still is ``sent`` (compare-and-set). A claim left behind says a cancel reached Octopush
and its answer was never written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.audit.store import AuditStore
from bot.audit.tables import audit_records
from bot.domain import AuditStatus

_t = audit_records

#: How long a cancel in progress holds its record (an Octopush call takes seconds).
CLAIM = timedelta(seconds=60)
#: ``claimed_by`` of a cancel's claim starts with this (a pending send's never does).
CLAIM_PREFIX = "cancel:"


class CancelLedger:
    """Claims, completes and counts cancels in the audit trail."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def claim(self, record_id: int, who: str) -> bool:
        """Hold a ``sent`` record for one cancel; False if it is held or not ``sent``."""
        now = self._store.now()
        with self._store.transaction("claim a send to cancel", write=True) as conn:
            done = conn.execute(
                sa.update(_t)
                .where(
                    _t.c.id == record_id,
                    _t.c.status == AuditStatus.SENT.value,
                    sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until <= now),
                )
                .values(claimed_by=CLAIM_PREFIX + who[:50], claimed_until=now + CLAIM)
            )
        return done.rowcount == 1

    def release(self, record_id: int) -> None:
        """Drop the claim after Octopush refused: nothing changed there."""
        with self._store.transaction("release a cancel claim", write=True) as conn:
            conn.execute(
                sa.update(_t)
                .where(
                    _t.c.id == record_id,
                    _t.c.status == AuditStatus.SENT.value,
                    _t.c.claimed_by.startswith(CLAIM_PREFIX),
                )
                .values(claimed_by=None, claimed_until=None)
            )

    def mark_cancelled(
        self, record_id: int, *, by: str, at: datetime, refunded: bool
    ) -> bool:
        """``sent`` → ``cancelled``, once; False when it was no longer ``sent``."""
        with self._store.transaction("record a cancel", write=True) as conn:
            done = conn.execute(
                sa.update(_t)
                .where(_t.c.id == record_id, _t.c.status == AuditStatus.SENT.value)
                .values(
                    status=AuditStatus.CANCELLED.value,
                    cancelled_at=at,
                    cancelled_by=by[:64],
                    cancel_refunded=refunded,
                    claimed_by=None,
                    claimed_until=None,
                )
            )
        return done.rowcount == 1

    def cancels_since(self, since: datetime) -> int:
        """Cancels recorded since ``since`` (Octopush allows 1,000 a month)."""
        query = sa.select(sa.func.count()).where(_t.c.cancelled_at >= since)
        with self._store.transaction("count cancels") as conn:
            return int(conn.execute(query).scalar_one())
