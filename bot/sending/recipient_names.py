"""The names shown next to a send's masked numbers, stored with its audit record.

The Slack layer knows who a number belongs to at send time (a directory person, a
mentioned Slack member); a post rebuilt later for a delivery receipt reads them here,
so the names survive a restart. Numbers typed as numbers have no name. Rows go with
their audit record (``ON DELETE CASCADE``), so a purge removes them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from bot.audit.store import AuditStore
from bot.audit.tables import recipient_names

#: Longest name stored (the column's size); longer ones are cut.
NAME_MAX = 200


class RecipientNames:
    """``remember`` once after a send; ``of`` whenever its post is rebuilt."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def remember(self, audit_id: int, names: Mapping[str, str]) -> None:
        """Store ``number -> name`` for ``audit_id``; a second call changes nothing."""
        rows = [
            {"audit_id": audit_id, "number": number, "name": name[:NAME_MAX]}
            for number, name in names.items()
            if name
        ]
        if not rows:
            return
        with self._store.transaction("remember recipient names", write=True) as conn:
            known = set(
                conn.execute(
                    sa.select(recipient_names.c.number).where(
                        recipient_names.c.audit_id == audit_id
                    )
                ).scalars()
            )
            fresh = [row for row in rows if row["number"] not in known]
            if fresh:
                conn.execute(sa.insert(recipient_names), fresh)

    def of(self, audit_id: int) -> dict[str, str]:
        """``number -> name`` for the numbers of ``audit_id`` that have one."""
        query = sa.select(recipient_names.c.number, recipient_names.c.name).where(
            recipient_names.c.audit_id == audit_id
        )
        with self._store.transaction("read recipient names") as conn:
            return {str(number): str(name) for number, name in conn.execute(query)}

    def of_many(self, audit_ids: Iterable[int]) -> dict[int, dict[str, str]]:
        """:meth:`of` for several records in one query (``/sms history``)."""
        wanted = list(audit_ids)
        found: dict[int, dict[str, str]] = {}
        if not wanted:
            return found
        query = sa.select(
            recipient_names.c.audit_id, recipient_names.c.number, recipient_names.c.name
        ).where(recipient_names.c.audit_id.in_(wanted))
        with self._store.transaction("read recipient names") as conn:
            for audit_id, number, name in conn.execute(query):
                found.setdefault(int(audit_id), {})[str(number)] = str(name)
        return found
