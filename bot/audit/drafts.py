"""Send-form drafts kept in the audit database between the estimate and **Send**.

Slack gives a view 3,000 characters of ``private_metadata``; a form with a long message
and many recipients needs more. Its draft is kept here under a random, unguessable id
that only the person who filled the form can use, once, within a day.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.audit.engine import checkpoint
from bot.audit.store import AuditStore
from bot.audit.tables import form_drafts as _t

#: A draft not sent within this long is removed (a form is filled in minutes).
DRAFT_LIFETIME = timedelta(days=1)


class DraftStore:
    """``keep`` a draft for a user, ``take`` it back (once).

    Each ``keep`` and ``take`` removes the drafts over a day old: a form abandoned at
    its estimate does not keep its message for longer.
    """

    def __init__(
        self, store: AuditStore, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._clock = clock or store.now

    def keep(self, user_id: str, payload: Mapping[str, Any]) -> str:
        """Store ``payload`` for ``user_id``; its id. Drafts over a day old go first."""
        now = self._clock()
        draft_id = secrets.token_urlsafe(24)
        with self._store.transaction("keep a form draft", write=True) as conn:
            conn.execute(sa.delete(_t).where(_t.c.created_at < now - DRAFT_LIFETIME))
            conn.execute(
                sa.insert(_t).values(
                    id=draft_id,
                    user_id=user_id,
                    created_at=now,
                    payload=json.dumps(dict(payload), ensure_ascii=False),
                )
            )
        return draft_id

    def take(self, draft_id: str, user_id: str) -> dict[str, Any] | None:
        """The draft ``user_id`` kept under ``draft_id``, removed; ``None`` if there is
        none (used, over a day old, or someone else's). Drafts a day old go too."""
        oldest = self._clock() - DRAFT_LIFETIME
        mine = (_t.c.id == draft_id) & (_t.c.user_id == user_id)
        with self._store.transaction("take a form draft", write=True) as conn:
            payload = conn.execute(
                sa.select(_t.c.payload).where(mine, _t.c.created_at >= oldest)
            ).scalar()
            conn.execute(sa.delete(_t).where(mine | (_t.c.created_at < oldest)))
        if self._store.redact_text:  # the message leaves the database's files too
            checkpoint(self._store.engine)
        if payload is None:
            return None
        data = json.loads(payload)
        return data if isinstance(data, dict) else None
