"""Plain-text and JSON renderings of outcomes and audit records, for the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.audit import CONTRACT_FIELDS, AuditRecord
from bot.domain import AuditStatus, SendOutcome
from bot.i18n import Translator, translator
from bot.i18n.octopush_hints import localized_hint


def outcome_json(outcome: SendOutcome) -> dict[str, Any]:
    """The outcome as a JSON-ready dict (full numbers: it goes to the operator only)."""
    request = outcome.request
    return {
        "audit_id": outcome.audit_id,
        "status": outcome.status.value,
        "request_id": outcome.request_id,
        "sms_ticket": outcome.sms_ticket,
        "number_of_contacts": outcome.number_of_contacts,
        "number_of_sms_needed": outcome.number_of_sms_needed,
        "total_cost": outcome.total_cost,
        "residual_credit": outcome.residual_credit,
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
        "error_hint": outcome.error_hint,
        "maybe_sent": outcome.maybe_sent,
        "recipients": list(request.recipients),
        "sender": request.sender,
        "sms_type": request.sms_type.value,
        "purpose": request.purpose.value,
        "send_at": request.send_at.isoformat() if request.send_at else None,
        "simulation": request.simulation,
        "duration_ms": outcome.duration_ms,
    }


def format_outcome(outcome: SendOutcome, tr: Translator | None = None) -> str:
    """One line a person reads: what happened, the numbers that matter, the audit id."""
    tr = tr or translator()
    request = outcome.request
    flags = "".join(
        f" [{flag}]"
        for flag, on in (
            (tr.gettext("simulation"), request.simulation),
            (tr.gettext("scheduled"), request.send_at is not None),
        )
        if on
    )
    if outcome.status is AuditStatus.SENT:
        parts = [tr.gettext("ticket %(ticket)s", ticket=outcome.sms_ticket)]
        if outcome.number_of_contacts is not None:
            parts.append(
                tr.ngettext(
                    "%(n)s contact", "%(n)s contacts", outcome.number_of_contacts
                )
            )
        if outcome.number_of_sms_needed is not None:
            parts.append(
                tr.gettext(
                    "%(count)s SMS each",
                    count=tr.number(outcome.number_of_sms_needed),
                )
            )
        if outcome.total_cost is not None:
            parts.append(tr.gettext("cost %(cost)s", cost=tr.money(outcome.total_cost)))
        if outcome.residual_credit is not None:
            parts.append(
                tr.gettext(
                    "credit left %(credit)s", credit=tr.money(outcome.residual_credit)
                )
            )
        values = {
            "flags": flags,
            "parts": ", ".join(parts),
            "audit_id": outcome.audit_id,
        }
        if request.send_at:
            return tr.gettext(
                "Sent for %(when)s%(flags)s: %(parts)s (audit #%(audit_id)s)",
                when=request.send_at.isoformat(),
                **values,
            )
        return tr.gettext("Sent%(flags)s: %(parts)s (audit #%(audit_id)s)", **values)
    if outcome.status is AuditStatus.CANCELLED:
        return tr.gettext(
            "Cancelled before it went out%(flags)s: ticket %(ticket)s "
            "(audit #%(audit_id)s)",
            flags=flags,
            ticket=outcome.sms_ticket,
            audit_id=outcome.audit_id,
        )
    if outcome.status is AuditStatus.PENDING:
        return tr.gettext(
            "Already in progress: attempt #%(audit_id)s "
            "with this request id is still pending",
            audit_id=outcome.audit_id,
        )
    hint = localized_hint(tr, outcome.error_hint)
    code = f"[{outcome.error_code}] " if outcome.error_code else ""
    return tr.gettext(
        "Not sent%(flags)s: %(code)s%(message)s.%(hint)s (audit #%(audit_id)s, failed)",
        flags=flags,
        code=code,
        message=outcome.error_message,
        hint=" " + hint if hint else "",
        audit_id=outcome.audit_id,
    )


def format_balance(amount: float, unit: str, tr: Translator | None = None) -> str:
    """``€12.54`` / ``12,54 €`` for euros; ``204 sms_premium`` for a product's credit."""
    tr = tr or translator()
    if unit == "euros":
        return tr.money(amount)
    return f"{tr.number(amount)} {unit}"


def _table_columns(tr: Translator) -> tuple[str, ...]:
    _ = tr.gettext
    return (
        _("id"),
        _("created_at"),
        _("source"),
        _("status"),
        _("who"),
        _("recipients"),
        _("sms"),
        _("cost"),
        _("ticket / error"),
    )


def format_audit(
    records: Sequence[AuditRecord], fmt: str, tr: Translator | None = None
) -> str:
    """Audit records as ``table`` (for people: translated), ``json`` or ``csv``."""
    if fmt == "json":
        return (
            json.dumps([record.contract_dict() for record in records], indent=2) + "\n"
        )
    if fmt == "csv":
        buffer = io.StringIO()
        rows = [record.contract_dict() for record in records]
        fields = list(rows[0]) if rows else list(CONTRACT_FIELDS)
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    key: " ".join(v) if isinstance(v, list) else v
                    for key, v in row.items()
                }
            )
        return buffer.getvalue()
    tr = tr or translator()
    if not records:
        return tr.gettext("no audit records yet") + "\n"
    columns = _table_columns(tr)
    table = [columns] + [_table_row(record, tr) for record in records]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in table
    )


def _table_row(record: AuditRecord, tr: Translator) -> tuple[str, ...]:
    recipients = ", ".join(record.recipients[:3]) + (
        f" +{len(record.recipients) - 3}" if len(record.recipients) > 3 else ""
    )
    outcome = record.sms_ticket or (
        f"[{record.error_code}] " if record.error_code else ""
    ) + (record.error_message or "")
    return (
        str(record.id),
        record.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        record.source.value,
        record.status.value,
        record.slack_user_id or "-",
        recipients,
        "-"
        if record.number_of_sms_needed is None
        else str(record.number_of_sms_needed),
        "-" if record.total_cost is None else tr.number(record.total_cost),
        outcome[:60],
    )
