"""Plain-text and JSON renderings of outcomes and audit records, for the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bot.audit import CONTRACT_FIELDS, AuditRecord
from bot.domain import AuditStatus, SendOutcome


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


def format_outcome(outcome: SendOutcome) -> str:
    """One line a person reads: what happened, the numbers that matter, the audit id."""
    request = outcome.request
    flags = "".join(
        f" [{flag}]"
        for flag, on in (
            ("simulation", request.simulation),
            ("scheduled", request.send_at is not None),
        )
        if on
    )
    if outcome.status is AuditStatus.SENT:
        parts = [f"ticket {outcome.sms_ticket}"]
        if outcome.number_of_contacts is not None:
            parts.append(_plural(outcome.number_of_contacts, "contact"))
        if outcome.number_of_sms_needed is not None:
            parts.append(f"{outcome.number_of_sms_needed} SMS each")
        if outcome.total_cost is not None:
            parts.append(f"cost {outcome.total_cost:g}")
        if outcome.residual_credit is not None:
            parts.append(f"credit left {outcome.residual_credit:g}")
        when = f" for {request.send_at.isoformat()}" if request.send_at else ""
        return f"Sent{when}{flags}: {', '.join(parts)} (audit #{outcome.audit_id})"
    if outcome.status is AuditStatus.PENDING:
        return (
            f"Already in progress: attempt #{outcome.audit_id} "
            "with this request id is still pending"
        )
    code = f"[{outcome.error_code}] " if outcome.error_code else ""
    hint = f" {outcome.error_hint}" if outcome.error_hint else ""
    audit = f"(audit #{outcome.audit_id}, failed)"
    return f"Not sent{flags}: {code}{outcome.error_message}.{hint} {audit}"


_TABLE_COLUMNS = (
    "id",
    "created_at",
    "source",
    "status",
    "who",
    "recipients",
    "sms",
    "cost",
    "ticket / error",
)


def format_audit(records: Sequence[AuditRecord], fmt: str) -> str:
    """Audit records as ``table``, ``json`` (contract fields) or ``csv``."""
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
    if not records:
        return "no audit records yet\n"
    table = [_TABLE_COLUMNS] + [_table_row(record) for record in records]
    widths = [max(len(row[i]) for row in table) for i in range(len(_TABLE_COLUMNS))]
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in table
    )


def _table_row(record: AuditRecord) -> tuple[str, ...]:
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
        "-" if record.total_cost is None else f"{record.total_cost:g}",
        outcome[:60],
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
