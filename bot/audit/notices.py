"""Notices that must go out once across every instance (e.g. low credit)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit.dialects import insert_or_ignore
from bot.audit.store import AuditStore
from bot.audit.tables import notices


class Notices:
    """A claim per key, shared by every instance through the audit database."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def claim(self, key: str) -> bool:
        """True for the one caller that claims ``key`` first; False for everyone after."""
        with self._store.transaction("claim a notice", write=True) as conn:
            return insert_or_ignore(
                conn, notices, {"key": key, "created_at": self._store.now()}, "key"
            )

    def claimed(self, key: str) -> bool:
        with self._store.transaction("read a notice") as conn:
            row = conn.execute(
                sa.select(notices.c.key).where(notices.c.key == key)
            ).first()
        return row is not None

    def release(self, key: str) -> None:
        """Forget ``key`` so the notice can go out again (e.g. credit was topped up)."""
        with self._store.transaction("release a notice", write=True) as conn:
            conn.execute(sa.delete(notices).where(notices.c.key == key))
