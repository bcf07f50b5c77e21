"""The pages still waiting for someone (open, or escalation ran out), for the App Home."""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit.pages import Page, PageState, PageStore
from bot.audit.store import AuditStore
from bot.audit.tables import pages

#: States of a page nobody acknowledged yet.
_WAITING = (PageState.OPEN.value, PageState.EXHAUSTED.value)


def open_pages(
    store: AuditStore, page_store: PageStore, *, limit: int
) -> tuple[list[Page], int]:
    """The newest ``limit`` unacknowledged pages, and how many there are in all."""
    waiting = pages.c.state.in_(_WAITING)
    ids_query = (
        sa.select(pages.c.id)
        .where(waiting)
        .order_by(pages.c.created_at.desc(), pages.c.id.desc())
        .limit(max(limit, 0))
    )
    count_query = sa.select(sa.func.count()).where(waiting)
    with store.transaction("list open pages") as conn:
        ids = [int(i) for i in conn.execute(ids_query).scalars()]
        total = int(conn.execute(count_query).scalar_one())
    return [page_store.get(page_id) for page_id in ids], total
