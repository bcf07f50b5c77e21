"""The voice step of pages: its timer (``next_call_at``) and the calls made.

Like the escalation timer, a due call is taken by one compare-and-set on the page's
``version``; the same write keeps the call's request id in ``page_calls``, before
Octopush is called, so across instances exactly one of them calls the member, and
a receipt of that call finds its page and member afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.audit.pages import Page, PageState, PageStore
from bot.audit.store import AuditStore
from bot.audit.tables import audit_records, page_calls, pages


@dataclass(frozen=True)
class PageCall:
    """One call of a page: to ``members[member_index]``, under ``request_id``."""

    page_id: int
    member_index: int
    request_id: str


class PageCalls:
    """Due calls, their claims, and the call an audit record belongs to."""

    def __init__(
        self, store: AuditStore, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._clock = clock or store.now
        self._pages = PageStore(store, clock=self._clock)

    def due(self) -> list[Page]:
        """Open pages whose member on call is to be called now."""
        query = (
            sa.select(pages.c.id)
            .where(
                pages.c.state == PageState.OPEN.value,
                pages.c.next_call_at <= self._clock(),
            )
            .order_by(pages.c.next_call_at)
        )
        with self._store.transaction("list due calls") as conn:
            ids = [int(i) for i in conn.execute(query).scalars()]
        return [self._pages.get(page_id) for page_id in ids]

    def claim(self, page: Page, *, request_id: str) -> Page | None:
        """Take the due call of ``page`` (as read) for this instance.

        Stops the timer and keeps ``request_id`` with the member called, in one
        write; None when another instance took it, the page moved or was closed, or
        this member was called already.
        """
        called = sa.select(page_calls.c.request_id).where(
            page_calls.c.page_id == page.id,
            page_calls.c.member_index == page.member_index,
        )
        move = (
            sa.update(pages)
            .where(
                pages.c.id == page.id,
                pages.c.version == page.version,
                pages.c.state == PageState.OPEN.value,
                pages.c.next_call_at.is_not(None),
            )
            .values(version=page.version + 1, next_call_at=None)
        )
        with self._store.transaction("claim a call", write=True) as conn:
            if conn.execute(move).rowcount != 1:
                return None
            if conn.execute(called).first() is not None:
                return None  # the timer was stopped; nobody is called twice
            conn.execute(
                sa.insert(page_calls).values(
                    page_id=page.id,
                    member_index=page.member_index,
                    request_id=request_id,
                )
            )
        return self._pages.get(page.id)

    def unsent(self) -> list[tuple[Page, PageCall]]:
        """Claimed calls of open pages, to the member still on the page, that never
        reached the send path (no audit record under their request id, refused or
        not): the claimer stopped in between (a crash, a database failure).

        Sending them again under the same request id is safe: when the claimer's
        send is still under way, the send path sees a duplicate and calls nobody.
        """
        recorded = sa.exists().where(
            sa.or_(
                audit_records.c.request_id == page_calls.c.request_id,
                audit_records.c.request_id.like(page_calls.c.request_id + "~%"),
            )
        )
        query = (
            sa.select(page_calls)
            .join(pages, pages.c.id == page_calls.c.page_id)
            .where(
                pages.c.state == PageState.OPEN.value,
                pages.c.member_index == page_calls.c.member_index,
                ~recorded,
            )
            .order_by(page_calls.c.page_id)
        )
        with self._store.transaction("find unsent calls") as conn:
            rows = conn.execute(query).mappings().all()
        calls = [
            PageCall(int(r["page_id"]), int(r["member_index"]), str(r["request_id"]))
            for r in rows
        ]
        return [(self._pages.get(call.page_id), call) for call in calls]

    def call_of(self, audit_id: int) -> PageCall | None:
        """The page call whose audit record is ``audit_id``; None for any other send."""
        query = (
            sa.select(page_calls)
            .join(audit_records, audit_records.c.request_id == page_calls.c.request_id)
            .where(audit_records.c.id == audit_id)
        )
        with self._store.transaction("find a page call") as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return PageCall(
            int(row["page_id"]), int(row["member_index"]), str(row["request_id"])
        )

    def of_page(self, page_id: int) -> list[PageCall]:
        """The calls of a page, by member."""
        query = (
            sa.select(page_calls)
            .where(page_calls.c.page_id == page_id)
            .order_by(page_calls.c.member_index)
        )
        with self._store.transaction("list a page's calls") as conn:
            rows = conn.execute(query).mappings().all()
        return [
            PageCall(int(r["page_id"]), int(r["member_index"]), str(r["request_id"]))
            for r in rows
        ]
