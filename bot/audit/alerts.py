"""Alert webhook events and alert keys, in the audit database.

:class:`AlertInbox` is the callback inbox's claim/lease mechanism over the
``alert_events`` table: the hook writes the event, then answers, and a worker handles
it. :class:`AlertKeys` keeps one open page per alert key across instances: opening
is a compare-and-set, so when two instances handle the same alert at once one of
them opens the page and the other updates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa

from bot.audit.dialects import insert_or_ignore
from bot.audit.inbox import LEASE, CallbackInbox
from bot.audit.store import AuditStore
from bot.audit.tables import alert_events, alert_keys

_e, _k = alert_events, alert_keys


@dataclass(frozen=True)
class AlertEventRow:
    """One stored alert event, for ``sms-bot audit`` and tests."""

    id: int
    received_at: datetime
    integration: str
    kind: str
    dedup_key: str
    action: str
    outcome: str | None
    page_id: int | None


class AlertInbox(CallbackInbox):
    """The ``alert_events`` table: put (before answering), claim, finish, list."""

    def __init__(self, store: AuditStore, *, lease: timedelta = LEASE) -> None:
        super().__init__(store, lease=lease, table=alert_events)
        self._alert_store = store

    def put_event(
        self,
        *,
        integration: str,
        kind: str,
        dedup_key: str,
        action: str,
        body: bytes,
        content_type: str | None,
    ) -> int:
        """Store one event; its id.

        Raises:
            AuditStoreError: the database is unavailable (answer 5xx: the sender retries).
        """
        values = {
            "received_at": self._alert_store.now(),
            "integration": integration,
            "kind": kind,
            "dedup_key": dedup_key,
            "action": action,
            "content_type": content_type[:255] if content_type else None,
            "body": body,
            "attempts": 0,
        }
        with self._alert_store.transaction("store an alert event", write=True) as conn:
            return int(
                conn.execute(
                    sa.insert(_e).values(values).returning(_e.c.id)
                ).scalar_one()
            )

    def event(self, event_id: int) -> AlertEventRow:
        query = sa.select(*_COLUMNS).where(_e.c.id == event_id)
        with self._alert_store.transaction("read an alert event") as conn:
            return AlertEventRow(*conn.execute(query).one())

    def set_page(self, event_id: int, page_id: int | None) -> None:
        """Remember which page the event opened, updated or resolved."""
        with self._alert_store.transaction("link an alert event", write=True) as conn:
            conn.execute(
                sa.update(_e).where(_e.c.id == event_id).values(page_id=page_id)
            )

    def recent(self, limit: int = 20) -> list[AlertEventRow]:
        """The newest events first (``sms-bot audit --alerts``)."""
        query = sa.select(*_COLUMNS).order_by(_e.c.id.desc()).limit(limit)
        with self._alert_store.transaction("list alert events") as conn:
            return [AlertEventRow(*row) for row in conn.execute(query).all()]


_COLUMNS = (
    _e.c.id,
    _e.c.received_at,
    _e.c.integration,
    _e.c.kind,
    _e.c.dedup_key,
    _e.c.action,
    _e.c.outcome,
    _e.c.page_id,
)


class Claim(StrEnum):
    """What a firing alert may do with its key."""

    #: No open page: this caller opens one (then :meth:`AlertKeys.opened`).
    OPEN = "open"
    #: A page is open for the key: update its post, never page again.
    UPDATE = "update"
    #: Closed too recently: the flapping bound holds the new page back.
    FLAPPING = "flapping"


@dataclass(frozen=True)
class KeyState:
    claim: Claim
    page_id: int | None


class AlertKeys:
    """One open page per ``(integration, dedup_key)``, across instances."""

    def __init__(self, store: AuditStore) -> None:
        self._store = store

    def firing(
        self, integration: str, key: str, *, repage_after: timedelta
    ) -> KeyState:
        """Claim the right to open a page for this key (compare-and-set)."""
        where = sa.and_(_k.c.integration == integration, _k.c.dedup_key == key)
        for _attempt in range(10):
            now = self._store.now()
            with self._store.transaction("claim an alert key", write=True) as conn:
                insert_or_ignore(
                    conn,
                    _k,
                    {
                        "integration": integration,
                        "dedup_key": key,
                        "page_id": None,
                        "is_open": False,
                        "opened_at": None,
                        "version": 0,
                    },
                    "integration",
                    "dedup_key",
                )
                row = conn.execute(
                    sa.select(
                        _k.c.page_id, _k.c.is_open, _k.c.opened_at, _k.c.version
                    ).where(where)
                ).one()
                page_id, is_open, opened_at, version = row
                if is_open:
                    return KeyState(Claim.UPDATE, page_id)
                if opened_at is not None and now - opened_at < repage_after:
                    return KeyState(Claim.FLAPPING, page_id)
                won = conn.execute(
                    sa.update(_k)
                    .where(where, _k.c.version == version)
                    .values(
                        is_open=True, opened_at=now, page_id=None, version=version + 1
                    )
                ).rowcount
                if won == 1:
                    return KeyState(Claim.OPEN, None)
        return KeyState(Claim.UPDATE, None)

    def open_page(self, integration: str, key: str) -> int | None:
        """The page open for the key, read only (Events v2 ``acknowledge``)."""
        query = sa.select(_k.c.page_id).where(
            _k.c.integration == integration, _k.c.dedup_key == key, _k.c.is_open
        )
        with self._store.transaction("find an open alert page") as conn:
            page_id = conn.execute(query).scalar()
        return int(page_id) if page_id is not None else None

    def opened(self, integration: str, key: str, page_id: int) -> None:
        """The page this caller opened after winning :meth:`firing`."""
        with self._store.transaction("remember an alert page", write=True) as conn:
            conn.execute(
                sa.update(_k)
                .where(_k.c.integration == integration, _k.c.dedup_key == key)
                .values(page_id=page_id, version=_k.c.version + 1)
            )

    def release(self, integration: str, key: str) -> None:
        """The page could not open (refused): the next firing may try again."""
        with self._store.transaction("release an alert key", write=True) as conn:
            conn.execute(
                sa.update(_k)
                .where(_k.c.integration == integration, _k.c.dedup_key == key)
                .values(is_open=False, opened_at=None, version=_k.c.version + 1)
            )

    def resolved(self, integration: str, key: str) -> int | None:
        """Close the key; the page it had open, None when none was open."""
        where = sa.and_(
            _k.c.integration == integration, _k.c.dedup_key == key, _k.c.is_open
        )
        with self._store.transaction("close an alert key", write=True) as conn:
            page_id = conn.execute(
                sa.update(_k)
                .where(where)
                .values(is_open=False, version=_k.c.version + 1)
                .returning(_k.c.page_id)
            ).scalar()
        return int(page_id) if page_id is not None else None

    def page_closed(self, page_id: int) -> None:
        """A page closed by hand (Resolve button, ``RES``): its key closes too."""
        with self._store.transaction("close an alert key", write=True) as conn:
            conn.execute(
                sa.update(_k)
                .where(_k.c.page_id == page_id, _k.c.is_open)
                .values(is_open=False, version=_k.c.version + 1)
            )

    def key_of(self, page_id: int) -> tuple[str, str] | None:
        query = sa.select(_k.c.integration, _k.c.dedup_key).where(
            _k.c.page_id == page_id
        )
        with self._store.transaction("find an alert key") as conn:
            row = conn.execute(query).first()
        return (str(row[0]), str(row[1])) if row is not None else None


@dataclass(frozen=True)
class AlertDetail:
    """What a page's post shows of its alert: the newest summary, links, how many fire."""

    integration: str
    dedup_key: str
    summary: str | None
    severity: str | None
    firing: int | None
    links: tuple[tuple[str, str], ...]
    is_open: bool


def describe(
    store: AuditStore,
    integration: str,
    key: str,
    *,
    summary: str,
    severity: str | None,
    firing: int,
    links: tuple[tuple[str, str], ...],
) -> None:
    """Keep the newest summary, severity, firing count and links of the key."""
    with store.transaction("describe an alert", write=True) as conn:
        conn.execute(
            sa.update(_k)
            .where(_k.c.integration == integration, _k.c.dedup_key == key)
            .values(
                summary=summary,
                severity=severity,
                firing=firing,
                links=[list(link) for link in links],
            )
        )


def detail_of(store: AuditStore, page_id: int) -> AlertDetail | None:
    """The alert behind page ``page_id``; None for a page started in Slack."""
    query = sa.select(
        _k.c.integration,
        _k.c.dedup_key,
        _k.c.summary,
        _k.c.severity,
        _k.c.firing,
        _k.c.links,
        _k.c.is_open,
    ).where(_k.c.page_id == page_id)
    with store.transaction("read an alert") as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    links = tuple((str(a), str(b)) for a, b in (row[5] or ()))
    return AlertDetail(
        str(row[0]), str(row[1]), row[2], row[3], row[4], links, bool(row[6])
    )
