"""The audit store's tables as the code uses them today (SQLAlchemy Core).

Column names are the contract's audit fields, so a row reads straight into
:class:`~bot.audit.records.AuditRecord`. Every change here comes with an Alembic
revision in ``bot/audit/migrations/versions/``; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware timestamp that always reads back as aware UTC.

    SQLite has no time zone type and drops ``tzinfo``; storing UTC and re-attaching it
    on read keeps both backends alike (and string order equal to time order on SQLite).
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value!r}: audit times must carry a time zone"
            )
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = sa.MetaData()

audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("slack_team_id", sa.String(64)),
    sa.Column("slack_user_id", sa.String(64)),
    sa.Column("slack_channel_id", sa.String(64)),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("sender", sa.String(64)),
    sa.Column("sms_type", sa.String(32)),
    sa.Column("purpose", sa.String(32)),
    sa.Column("send_at", UtcDateTime),
    sa.Column("simulation", sa.Boolean, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("sms_ticket", sa.String(128)),
    sa.Column("number_of_contacts", sa.Integer),
    sa.Column("number_of_sms_needed", sa.Integer),
    sa.Column("total_cost", sa.Float),
    sa.Column("residual_credit", sa.Float),
    sa.Column("error_code", sa.String(64)),
    sa.Column("error_message", sa.Text),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("slack_message_channel", sa.String(64)),
    sa.Column("slack_message_ts", sa.String(64)),
    # Revision 0007: who holds a pending attempt (the sending process, or the sweep
    # settling it) and until when; the caller's key of a group of retried attempts.
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("request_key", sa.String(128)),
    # Revision 0012: a scheduled send cancelled at Octopush, by whom, and whether its
    # cost came back; the month's cancels are counted along the index on the time.
    sa.Column("cancelled_at", UtcDateTime),
    sa.Column("cancelled_by", sa.String(64)),
    sa.Column("cancel_refunded", sa.Boolean),
    sa.Index("ux_audit_records_request_id", "request_id", unique=True),
    sa.Index("ix_audit_records_request_key", "request_key"),
    sa.Index("ix_audit_records_created_at", "created_at"),
    sa.Index("ix_audit_records_channel_created", "slack_channel_id", "created_at"),
    # Revision 0015: with ``status``, the rate window is counted from the index alone.
    sa.Index(
        "ix_audit_records_user_created_status", "slack_user_id", "created_at", "status"
    ),
    # Revision 0003: the budget and the pending sweep read one status since a time.
    sa.Index("ix_audit_records_status_created", "status", "created_at"),
    sa.Index("ix_audit_records_cancelled_at", "cancelled_at"),
)

opt_outs = sa.Table(
    "opt_outs",
    metadata,
    sa.Column("number", sa.String(32), primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("message_id", sa.String(128)),
    sa.Column("note", sa.Text),
)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "audit_id",
        sa.Integer,
        sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
    ),
    sa.Column("message_id", sa.String(128), nullable=False),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("raw_status", sa.String(64), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ux_deliveries_message_number", "message_id", "number", unique=True),
    sa.Index("ix_deliveries_audit_id", "audit_id"),
)

#: The names a send's post shows next to masked numbers (a directory person, a Slack
#: mention): kept so a post rebuilt for a receipt still names them. Gone with the record.
recipient_names = sa.Table(
    "recipient_names",
    metadata,
    sa.Column(
        "audit_id",
        sa.Integer,
        sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("number", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("slack_team_id", sa.String(64)),
    sa.Column("slack_user_id", sa.String(64)),
    sa.Column("slack_channel_id", sa.String(64)),
    sa.Column("slack_message_ts", sa.String(64)),
    sa.Column("members", sa.JSON, nullable=False),
    sa.Column("member_index", sa.Integer, nullable=False),
    sa.Column("audit_ids", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("escalate_after_s", sa.Integer),
    sa.Column("next_escalation_at", UtcDateTime),
    sa.Column("acknowledged_by", sa.String(128)),
    sa.Column("acknowledged_at", UtcDateTime),
    sa.Column("version", sa.Integer, nullable=False),
    # Revision 0013: the voice step's timer (the rotation's ``call_after``).
    sa.Column("call_after_s", sa.Integer),
    sa.Column("next_call_at", UtcDateTime),
    sa.Index("ix_pages_due", "state", "next_escalation_at"),
    sa.Index("ix_pages_call_due", "state", "next_call_at"),
)

#: The voice calls of a page (revision 0013): one per member at most, claimed (with
#: its request id) before the call, so two instances never call the same member.
page_calls = sa.Table(
    "page_calls",
    metadata,
    sa.Column(
        "page_id",
        sa.Integer,
        sa.ForeignKey("pages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("member_index", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("page_id", "member_index", name="pk_page_calls"),
    sa.Index("ix_page_calls_request_id", "request_id"),
)

#: The page each SMS belongs to (revision 0006): receipts and replies find it by index.
page_audits = sa.Table(
    "page_audits",
    metadata,
    sa.Column(
        "audit_id",
        sa.Integer,
        sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "page_id",
        sa.Integer,
        sa.ForeignKey("pages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Index("ix_page_audits_page_id", "page_id"),
)

#: The request id each page member is texted under (revision 0008), written in the
#: same transaction that opens the page or moves it to that member, before the SMS:
#: a page finds its SMS (and the numbers it texted) even when recording the audit id
#: after the send failed, and an unfinished move is resumed under the same request id.
page_requests = sa.Table(
    "page_requests",
    metadata,
    sa.Column(
        "page_id",
        sa.Integer,
        sa.ForeignKey("pages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("member_index", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.PrimaryKeyConstraint("page_id", "member_index", name="pk_page_requests"),
    sa.Index("ix_page_requests_request_id", "request_id"),
)

#: One row per Octopush ticket (revision 0003): callbacks find their send by index.
audit_tickets = sa.Table(
    "audit_tickets",
    metadata,
    sa.Column("ticket", sa.String(128), nullable=False),
    sa.Column(
        "audit_id",
        sa.Integer,
        sa.ForeignKey("audit_records.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.PrimaryKeyConstraint("ticket", "audit_id", name="pk_audit_tickets"),
    sa.Index("ix_audit_tickets_audit_id", "audit_id"),
)


def _claimed_rows() -> list[sa.Column[Any]]:
    """The columns :class:`bot.audit.inbox.CallbackInbox` stores and claims rows by:
    every table it works on has them (a fresh set each: a column has one table)."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("received_at", UtcDateTime, nullable=False),
        sa.Column("content_type", sa.String(255)),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", UtcDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_at", UtcDateTime),
        sa.Column("outcome", sa.String(32)),
    ]


#: Octopush callbacks, stored before they are answered (revision 0004).
callback_inbox = sa.Table(
    "callback_inbox",
    metadata,
    *_claimed_rows(),
    sa.Index("ux_callback_inbox_digest", "digest", unique=True),
    sa.Index("ix_callback_inbox_unprocessed", "processed_at", "id"),
)

#: ``/sms`` commands stored by the ack before it answers (revision 0014), claimed and
#: run by a sender with the callback inbox's leases (the same columns, the same code:
#: :class:`bot.audit.inbox.CallbackInbox`). ``content_type`` holds the command's kind,
#: ``digest`` its request id's hash (a command is stored once), ``body`` its JSON.
stored_commands = sa.Table(
    "stored_commands",
    metadata,
    *_claimed_rows(),
    sa.Index("ux_stored_commands_digest", "digest", unique=True),
    sa.Index("ix_stored_commands_unprocessed", "processed_at", "id"),
)

#: Senders alive (revision 0014): each writes its heartbeat here, so ``/healthz`` and
#: ``sms-bot check`` can tell a stored command that waits for nobody.
command_senders = sa.Table(
    "command_senders",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False),
    sa.Index("ix_command_senders_seen_at", "seen_at"),
)

#: On-call overrides (revision 0005): who covers a rotation until when.
oncall_overrides = sa.Table(
    "oncall_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rotation", sa.String(128), nullable=False),
    sa.Column("person", sa.String(128), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(64)),
    sa.Column("cleared_at", UtcDateTime),
    sa.Column("cleared_by", sa.String(64)),
    sa.Index("ix_oncall_overrides_rotation_ends", "rotation", "ends_at"),
)

#: Send-form drafts too large for a view's ``private_metadata`` (revision 0009), kept
#: between the form's estimate and its **Send**; removed when used or a day old.
form_drafts = sa.Table(
    "form_drafts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Index("ix_form_drafts_created_at", "created_at"),
)

#: Alert webhook events (revision 0011), stored before they are answered and handled
#: from here like the callback inbox; kept as the audit trail of what each one did.
alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("integration", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("dedup_key", sa.String(255), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("content_type", sa.String(255)),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_at", UtcDateTime),
    sa.Column("outcome", sa.String(32)),
    sa.Column("page_id", sa.Integer),
    sa.Index("ix_alert_events_unprocessed", "processed_at", "id"),
    sa.Index("ix_alert_events_key", "integration", "dedup_key"),
)

#: One row per alert key (revision 0011): its page, open or not, and when the last
#: page opened (the flapping bound). Opening is a compare-and-set on ``version``, so
#: two instances receiving the same alert open one page.
alert_keys = sa.Table(
    "alert_keys",
    metadata,
    sa.Column("integration", sa.String(64), primary_key=True),
    sa.Column("dedup_key", sa.String(255), primary_key=True),
    sa.Column("page_id", sa.Integer),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("opened_at", UtcDateTime),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text),
    sa.Column("severity", sa.String(32)),
    sa.Column("firing", sa.Integer),
    sa.Column("links", sa.JSON),
    sa.Index("ix_alert_keys_page_id", "page_id"),
)
