"""Pages (on-call alerts) and their escalation timers, kept in the audit database.

A timer is a row's ``next_escalation_at``; every change of a page is a compare-and-set
on its ``version``, so when several instances look at the same due page exactly one
of them escalates it, and a restart loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.audit.dialects import insert_or_ignore
from bot.audit.engine import checkpoint
from bot.audit.store import AuditStore
from bot.audit.tables import audit_records, page_audits, page_requests, pages

#: Audit ``source`` of the system's own page sends (escalations, failovers).
ESCALATION_SOURCE = "escalation"

#: How long a move to the next member may take to text them and record that SMS.
#: The move's compare-and-set arms the timer this far ahead (or ``escalate_after``
#: when shorter); recording the SMS re-arms it to ``escalate_after``. When the mover
#: stopped in between (a crash), the timer loop of any instance finds the page due
#: this soon and finishes the move (read at each move, so tests may shorten it).
MOVE_GRACE = timedelta(seconds=60)

#: Audit statuses whose numbers a page texted (``pending``: Octopush may have been
#: called, the record was not completed yet).
_TEXTED = ("sent", "pending")


class PageState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    EXHAUSTED = "exhausted"
    #: Closed: its alert resolved, or someone resolved it (button, ``RES``).
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Page:
    id: int
    created_at: datetime
    target: str
    text: str | None
    slack_team_id: str | None
    slack_user_id: str | None
    slack_channel_id: str | None
    slack_message_ts: str | None
    members: tuple[str, ...]
    member_index: int
    audit_ids: tuple[int, ...]
    state: PageState
    escalate_after: timedelta | None
    next_escalation_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    version: int
    #: The voice step (a rotation's ``call_after``): when to call the member on call.
    call_after: timedelta | None = None
    next_call_at: datetime | None = None

    @property
    def current_member(self) -> str:
        return self.members[self.member_index]

    @property
    def escalates_at(self) -> datetime | None:
        """When the timer pages the next member, as far as is known: None while the
        current member's SMS is not recorded on the page (the timer is still the
        move's grace, restarted once that SMS is recorded)."""
        if self.member_index > 0 and len(self.audit_ids) <= self.member_index:
            return None
        return self.next_escalation_at

    @property
    def next_member(self) -> str | None:
        index = self.member_index + 1
        return self.members[index] if index < len(self.members) else None


class PageStore:
    """Create, read and move pages; every move is a compare-and-set on ``version``."""

    def __init__(
        self, store: AuditStore, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._clock = clock or store.now

    def now(self) -> datetime:
        return self._clock()

    def create(
        self,
        *,
        target: str,
        text: str | None,
        members: tuple[str, ...],
        escalate_after: timedelta | None,
        slack_team_id: str | None = None,
        slack_user_id: str | None = None,
        slack_channel_id: str | None = None,
        request_id: str | None = None,
        call_after: timedelta | None = None,
    ) -> Page:
        """Open a page; ``request_id`` (its first member's SMS) is kept in the same
        write, before the SMS, so the page knows that SMS even if nothing after it
        could be recorded."""
        now = self.now()
        escalates = escalate_after is not None and len(members) > 1
        values = {
            "created_at": now,
            "target": target,
            # Kept while the page is open, even with SMS_AUDIT_REDACT_TEXT: escalations
            # carry it. Redacted when the page closes (see _closing).
            "text": text,
            "slack_team_id": slack_team_id,
            "slack_user_id": slack_user_id,
            "slack_channel_id": slack_channel_id,
            "members": list(members),
            "member_index": 0,
            "audit_ids": [],
            "state": PageState.OPEN.value,
            "escalate_after_s": int(escalate_after.total_seconds())
            if escalate_after
            else None,
            "next_escalation_at": now + escalate_after
            if escalates and escalate_after
            else None,
            "version": 1,
            "call_after_s": int(call_after.total_seconds()) if call_after else None,
            "next_call_at": now + call_after if call_after else None,
        }
        with self._store.transaction("create a page", write=True) as conn:
            page_id = conn.execute(
                sa.insert(pages).values(values).returning(pages.c.id)
            ).scalar_one()
            if request_id is not None:
                conn.execute(
                    sa.insert(page_requests).values(
                        page_id=page_id, member_index=0, request_id=request_id
                    )
                )
        return self.get(int(page_id))

    def discard(self, page_id: int) -> None:
        """Remove a page that never started (its first send was refused or a duplicate)."""
        with self._store.transaction("discard a page", write=True) as conn:
            conn.execute(
                sa.delete(page_requests).where(page_requests.c.page_id == page_id)
            )
            conn.execute(sa.delete(pages).where(pages.c.id == page_id))

    def get(self, page_id: int) -> Page:
        with self._store.transaction("read a page") as conn:
            row = (
                conn.execute(sa.select(pages).where(pages.c.id == page_id))
                .mappings()
                .one()
            )
        return _page(row)

    def for_audit(self, audit_id: int) -> Page | None:
        """The page, open or closed, one of whose SMS has this audit id; by index.

        Replies and receipts find their page so; a closed one still owns its post,
        and callers that act only on open pages check the state.
        """
        query = (
            sa.select(pages)
            .join(page_audits, page_audits.c.page_id == pages.c.id)
            .where(page_audits.c.audit_id == audit_id)
        )
        # An SMS whose audit id the page could not record: by its request id.
        by_request = (
            sa.select(pages)
            .join(page_requests, page_requests.c.page_id == pages.c.id)
            .join(
                audit_records, audit_records.c.request_id == page_requests.c.request_id
            )
            .where(audit_records.c.id == audit_id)
            .order_by(pages.c.id)
        )
        with self._store.transaction("find a page") as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                row = conn.execute(by_request).mappings().first()
        return _page(row) if row is not None else None

    def attempt_index(self, page: Page, audit_id: int) -> int | None:
        """Which member of ``page`` the SMS ``audit_id`` went to; None if not its own."""
        if audit_id in page.audit_ids:
            return page.audit_ids.index(audit_id)
        query = (
            sa.select(page_requests.c.member_index)
            .join(
                audit_records, audit_records.c.request_id == page_requests.c.request_id
            )
            .where(page_requests.c.page_id == page.id, audit_records.c.id == audit_id)
        )
        with self._store.transaction("find a page attempt") as conn:
            index = conn.execute(query).scalar()
        return int(index) if index is not None else None

    def unsent_request(self, page: Page) -> str | None:
        """The request id of a move to the current member whose SMS was never tried.

        A move keeps its request id in the claim, before the SMS; when neither an
        audit record under that id nor the attempt's audit id exists, the sender
        stopped in between (a crash, a database failure). None otherwise, and for
        the first member (a page whose first SMS failed is discarded).
        """
        if page.member_index == 0 or len(page.audit_ids) > page.member_index:
            return None
        sent = sa.exists().where(
            audit_records.c.request_id == page_requests.c.request_id
        )
        query = sa.select(page_requests.c.request_id).where(
            page_requests.c.page_id == page.id,
            page_requests.c.member_index == page.member_index,
            ~sent,
        )
        with self._store.transaction("find an unsent page move") as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None

    def unrecorded_sms(self, page: Page) -> int | None:
        """The audit id of the current member's SMS when the page never recorded it.

        The move kept its request id before the SMS; an audit record under it with
        no audit id on the page means the mover stopped after sending, before
        :meth:`add_audit_id` re-armed the timer: the timer that is due is the move's
        grace, not ``escalate_after``. None otherwise, for the first member (whose
        timer is written with the page), and when that SMS was refused or failed:
        the member cannot be reached, so the page moves on at once.
        """
        if page.member_index == 0 or len(page.audit_ids) > page.member_index:
            return None
        query = (
            sa.select(audit_records.c.id)
            .join(
                page_requests, page_requests.c.request_id == audit_records.c.request_id
            )
            .where(
                page_requests.c.page_id == page.id,
                page_requests.c.member_index == page.member_index,
                audit_records.c.status.in_(_TEXTED),
            )
            .order_by(audit_records.c.id)
            .limit(1)
        )
        with self._store.transaction("find an unrecorded page SMS") as conn:
            found = conn.execute(query).scalar()
        return int(found) if found is not None else None

    def never_started(self, page: Page) -> bool:
        """Whether the page's first SMS never went out, though the page row remains.

        A page whose first send failed before Octopush was called is discarded and the
        person told so; when that delete failed too (a database outage), the row is
        left with its timer. The timer must not escalate it: the person was told the
        page failed. True when the first member's request id is known, the page
        recorded no SMS, and no audit record under that id is sent or pending.
        """
        if page.member_index != 0 or any(page.audit_ids):
            return False
        texted = sa.exists().where(
            audit_records.c.request_id == page_requests.c.request_id,
            audit_records.c.status.in_(_TEXTED),
        )
        query = sa.select(page_requests.c.request_id).where(
            page_requests.c.page_id == page.id,
            page_requests.c.member_index == 0,
            ~texted,
        )
        with self._store.transaction("find a page that never started") as conn:
            return conn.execute(query).first() is not None

    def rearm(self, page: Page) -> Page | None:
        """Restart the move's grace timer (compare-and-set): the one caller that wins
        resumes an unsent move; None when the page changed."""
        return self._move(
            page,
            next_escalation_at=self._grace(page),
            next_call_at=self._call_following(page),
        )

    def sms_ids(self, page: Page) -> list[int]:
        """The audit ids of the page's SMS: those it recorded, and those found by the
        request ids it kept before each send."""
        query = (
            sa.select(audit_records.c.id)
            .join(
                page_requests, page_requests.c.request_id == audit_records.c.request_id
            )
            .where(page_requests.c.page_id == page.id)
            .order_by(page_requests.c.member_index)
        )
        with self._store.transaction("list a page's SMS") as conn:
            found = [int(i) for i in conn.execute(query).scalars()]
        recorded = [i for i in page.audit_ids if i]
        return recorded + [i for i in found if i not in recorded]

    def set_message(self, page_id: int, *, channel: str, ts: str) -> None:
        with self._store.transaction("remember the page post", write=True) as conn:
            conn.execute(
                sa.update(pages)
                .where(pages.c.id == page_id)
                .values(slack_channel_id=channel, slack_message_ts=ts)
            )

    def due(self) -> list[Page]:
        """Open pages whose escalation time has come."""
        query = (
            sa.select(pages)
            .where(
                pages.c.state == PageState.OPEN.value,
                pages.c.next_escalation_at <= self.now(),
            )
            .order_by(pages.c.next_escalation_at)
        )
        with self._store.transaction("list due pages") as conn:
            return [_page(row) for row in conn.execute(query).mappings().all()]

    def acknowledge(self, page_id: int, *, by: str) -> Page | None:
        """Mark acknowledged (also after escalation ran out); None if it already was."""
        for _attempt in range(5):  # an escalation may move the page under our feet
            page = self.get(page_id)
            if page.state is PageState.ACKNOWLEDGED:
                return None
            moved = self._move(
                page,
                from_states=(PageState.OPEN, PageState.EXHAUSTED),
                state=PageState.ACKNOWLEDGED.value,
                acknowledged_by=by,
                acknowledged_at=self.now(),
                next_escalation_at=None,
                **self._closing(),
            )
            if moved is not None:
                return moved
        return None

    def claim_escalation(self, page: Page) -> Page | None:
        """Take the due escalation of ``page`` for this instance; None if another took it.

        The page moves to its next member (or is exhausted) before anything is sent,
        so a crash after the claim never pages the same member twice.
        """
        return self.claim_next(page)

    def claim_next(self, page: Page, *, request_id: str | None = None) -> Page | None:
        """Move ``page`` (as read, at its version) to its next member, or exhaust it.

        The one compare-and-set behind every move: the escalation timer, a failed
        receipt and an immediate failover all go through it, so when two instances
        race for the same move exactly one wins and pages the next member.
        ``request_id`` (the next member's SMS) is kept in the same write, and the
        timer is set to the move's grace (:data:`MOVE_GRACE`): if the SMS is never
        recorded (the mover died), the timer loop finishes the move soon.
        """
        index = page.member_index + 1
        if index >= len(page.members):
            return self.exhaust(page)
        if request_id is None:
            return self._move(
                page, member_index=index, next_escalation_at=self._following(page)
            )
        return self._move(
            page,
            request=(index, request_id),
            member_index=index,
            next_escalation_at=self._grace(page),
            next_call_at=self._call_following(page),
        )

    def exhaust(self, page: Page) -> Page | None:
        """Nobody left to page: close the timer (and redact the text if configured)."""
        return self._move(
            page,
            state=PageState.EXHAUSTED.value,
            next_escalation_at=None,
            **self._closing(),
        )

    def add_audit_id(self, page: Page, audit_id: int) -> Page:
        """Remember the attempt ``audit_id`` of the page's current member.

        ``audit_ids[i]`` is the attempt of ``members[i]``: receipts and replies find
        the page and the member through it. Retried on a concurrent acknowledgement.
        A slot left empty by an earlier failed write is kept as 0 (the page still
        finds that SMS by its request id); recording the same attempt twice (a
        resumed move) changes nothing. Recording the current member's SMS on an open
        page with a timer re-arms it in the same write, to ``escalate_after`` from
        now (None when the page has none): the member gets their full time.
        """
        with self._store.transaction("index a page attempt", write=True) as conn:
            insert_or_ignore(
                conn,
                page_audits,
                {"audit_id": audit_id, "page_id": page.id},
                "audit_id",
            )
        current, index = page, page.member_index
        for _attempt in range(10):
            ids = list(current.audit_ids[: index + 1])
            ids += [0] * (index + 1 - len(ids))
            if ids[index] not in (0, audit_id):
                return current  # another attempt of this member was recorded first
            if audit_id in current.audit_ids:
                return current
            ids[index] = audit_id
            changes: dict[str, Any] = {
                "audit_ids": [*ids, *current.audit_ids[index + 1 :]]
            }
            if (
                current.state is PageState.OPEN
                and current.member_index == index
                and current.next_escalation_at is not None
            ):
                changes["next_escalation_at"] = self._following(current)
            moved = self._move(current, from_states=tuple(PageState), **changes)
            if moved is not None:
                return moved
            current = self.get(page.id)
        raise RuntimeError(f"page #{page.id} kept changing; attempt not recorded")

    def numbers_texted(self, page: Page) -> set[str]:
        """Every number one of the page's SMS went to (only they may acknowledge it).

        Found by the audit ids the page recorded and by the request ids it kept
        before each send, so a page whose audit ids could not be recorded still
        knows whom it texted.
        """
        requests = sa.select(page_requests.c.request_id).where(
            page_requests.c.page_id == page.id
        )
        query = sa.select(audit_records.c.recipients).where(
            sa.or_(
                audit_records.c.id.in_([i for i in page.audit_ids if i]),
                audit_records.c.request_id.in_(requests),
            ),
            audit_records.c.status.in_(_TEXTED),
        )
        with self._store.transaction("numbers of a page") as conn:
            rows = conn.execute(query).scalars().all()
        return {number for recipients in rows for number in (recipients or [])}

    def _following(self, page: Page) -> datetime | None:
        return self.now() + page.escalate_after if page.escalate_after else None

    def _grace(self, page: Page) -> datetime:
        """When a move's SMS, if never recorded, is looked at again: never later
        than the member's own escalate_after would have been."""
        grace = MOVE_GRACE
        if page.escalate_after is not None:
            grace = min(grace, page.escalate_after)
        return self.now() + grace

    def _call_following(self, page: Page) -> datetime | None:
        return self.now() + page.call_after if page.call_after else None

    def _closing(self) -> dict[str, Any]:
        return {"text": None} if self._store.redact_text else {}

    def _move(
        self,
        page: Page,
        *,
        from_states: tuple[PageState, ...] = (PageState.OPEN,),
        request: tuple[int, str] | None = None,
        **changes: Any,
    ) -> Page | None:
        query = (
            sa.update(pages)
            .where(
                pages.c.id == page.id,
                pages.c.version == page.version,
                pages.c.state.in_([state.value for state in from_states]),
            )
            .values(version=page.version + 1, **changes)
        )
        with self._store.transaction("update a page", write=True) as conn:
            if conn.execute(query).rowcount != 1:
                return None
            if request is not None:
                index, request_id = request
                conn.execute(
                    sa.insert(page_requests).values(
                        page_id=page.id, member_index=index, request_id=request_id
                    )
                )
        if "text" in changes:  # a redacted text leaves the database's files too
            checkpoint(self._store.engine)
        return self.get(page.id)


class PageLifeStore(PageStore):
    """The moves of a page's life beyond paging: resolve, escalate now, its SMS text.

    Kept apart from :class:`PageStore`'s paging moves; the same compare-and-set.
    """

    def find(self, page_id: int) -> Page | None:
        """Page ``page_id``, or None when there is none (a mistyped ``ACK 99``)."""
        with self._store.transaction("read a page") as conn:
            row = (
                conn.execute(sa.select(pages).where(pages.c.id == page_id))
                .mappings()
                .first()
            )
        return _page(row) if row is not None else None

    def set_text(self, page: Page, text: str) -> Page:
        """The page's SMS text once its number is known (``[sms-bot #12] …``)."""
        with self._store.transaction("write a page text", write=True) as conn:
            conn.execute(
                sa.update(pages).where(pages.c.id == page.id).values(text=text)
            )
        return self.get(page.id)

    def resolve(self, page_id: int, *, by: str) -> Page | None:
        """Close the page and stop its escalation; None when it was already resolved."""
        for _attempt in range(5):
            page = self.get(page_id)
            if page.state is PageState.RESOLVED:
                return None
            moved = self._move(
                page,
                from_states=(
                    PageState.OPEN,
                    PageState.ACKNOWLEDGED,
                    PageState.EXHAUSTED,
                ),
                state=PageState.RESOLVED.value,
                # Who closed it, shown as "Resolved by" (the page keeps one name).
                acknowledged_by=by,
                acknowledged_at=self.now(),
                next_escalation_at=None,
                **self._closing(),  # SMS_AUDIT_REDACT_TEXT: a closed page drops it
            )
            if moved is not None:
                return moved
        return None

    def escalate_now(self, page_id: int) -> Page | None:
        """Make the page's escalation due now (the escalation loop moves it, once).

        An acknowledged page is opened again; None when it is resolved or its
        escalation ran out.
        """
        for _attempt in range(5):
            page = self.get(page_id)
            if page.state not in (PageState.OPEN, PageState.ACKNOWLEDGED):
                return None
            moved = self._move(
                page,
                from_states=(PageState.OPEN, PageState.ACKNOWLEDGED),
                state=PageState.OPEN.value,
                acknowledged_by=None,
                acknowledged_at=None,
                next_escalation_at=self.now(),
            )
            if moved is not None:
                return moved
        return None

    def unresolved(self, since: datetime) -> list[Page]:
        """Pages opened since ``since`` and not resolved, newest first."""
        query = (
            sa.select(pages)
            .where(
                pages.c.state != PageState.RESOLVED.value, pages.c.created_at >= since
            )
            .order_by(pages.c.id.desc())
        )
        with self._store.transaction("list unresolved pages") as conn:
            return [_page(row) for row in conn.execute(query).mappings().all()]


def _page(row: Any) -> Page:
    seconds = row["escalate_after_s"]
    return Page(
        id=int(row["id"]),
        created_at=row["created_at"],
        target=row["target"],
        text=row["text"],
        slack_team_id=row["slack_team_id"],
        slack_user_id=row["slack_user_id"],
        slack_channel_id=row["slack_channel_id"],
        slack_message_ts=row["slack_message_ts"],
        members=tuple(row["members"] or ()),
        member_index=int(row["member_index"]),
        audit_ids=tuple(int(i) for i in row["audit_ids"] or ()),
        state=PageState(row["state"]),
        escalate_after=timedelta(seconds=seconds) if seconds is not None else None,
        next_escalation_at=row["next_escalation_at"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=row["acknowledged_at"],
        version=int(row["version"]),
        call_after=timedelta(seconds=row["call_after_s"])
        if row["call_after_s"] is not None
        else None,
        next_call_at=row["next_call_at"],
    )


def escalations_since(conn: Connection, since: datetime) -> int:
    """How many escalation sends were attempted since ``since`` (their own cap).

    Counted in ``conn``: the guard's transaction, under its lock.
    """
    query = sa.select(sa.func.count()).where(
        audit_records.c.source == ESCALATION_SOURCE,
        audit_records.c.created_at >= since,
        audit_records.c.status != "rejected",
    )
    return int(conn.execute(query).scalar_one())
