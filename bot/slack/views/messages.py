"""The result of a send (channel post) and the reasons a send was refused, as Block Kit.

Replies to ``/sms`` itself (help, balance, history, the ack, the questions asked before a
send) live in :mod:`bot.slack.views.command_replies`. Pure builders: they return
``{"text": fallback, "blocks": [...]}`` and the handlers post them. Phone numbers are
always masked and typed text is always escaped here, so no caller can leak a number into
a channel or smuggle ``<!channel>`` into a post.
"""

from __future__ import annotations

from typing import Any

from bot.domain import AuditStatus, SendOutcome
from bot.errors import InputError, PolicyError
from bot.slack.views.blocks import (
    FIELD_LABELS,
    amount,
    chunk_lines,
    context,
    escape,
    fields_section,
    masked_list,
    message,
    person_mention,
    quote,
    recipients_label,
    scrub_numbers,
    section,
    slack_date,
    truncate,
    utc_iso,
)

_MAYBE_SENT = (
    "⚠️ The connection broke after the request left, so Octopush may have received "
    "it and sent the SMS. Check the Octopush campaign list before sending again."
)


def build_result_message(outcome: SendOutcome, *, user_id: str) -> dict[str, Any]:
    """The channel post for one attempt: what happened, what it cost, who did it."""
    if outcome.status is AuditStatus.PENDING:
        return _pending_message(outcome, user_id=user_id)
    if outcome.status is AuditStatus.SENT:
        title, fallback, pairs = _sent_parts(outcome)
    else:
        title = "❌ *SMS not sent*"
        fallback = f"❌ SMS not sent (audit #{outcome.audit_id})"
        code = outcome.error_code
        pairs = [("Octopush error", f"`{escape(code)}`")] if code else []
        if outcome.sms_ticket:  # batches stopped part-way: some SMS went out
            title = "⚠️ *SMS partly sent*"
            fallback = f"⚠️ SMS partly sent (audit #{outcome.audit_id})"
            pairs.insert(0, ("Ticket", f"`{escape(outcome.sms_ticket)}`"))
    request = outcome.request
    pairs += [
        ("Sender", escape(request.sender) if request.sender else "account default"),
        ("Sent by" if outcome.ok else "Requested by", person_mention(user_id)),
    ]
    blocks = [section(title), fields_section(pairs)]
    if outcome.status is not AuditStatus.SENT:
        blocks += _failure_blocks(outcome)
    blocks += [section(f"⚠️ *Then:* {escape(problem)}") for problem in outcome.problems]
    if outcome.duplicate:
        blocks.append(
            context(
                "↩️ Same request as before: this is its recorded result, not a new send."
            )
        )
    count = len(request.recipients)
    blocks.append(
        section(f"*{recipients_label(count)}:* {masked_list(request.recipients)}")
    )
    if request.text:
        blocks.append(section(quote(request.text)))
    badges = _badges(outcome)
    if badges:
        blocks.append(context(*badges))
    blocks.append(context(f"audit #{outcome.audit_id}"))
    return message(fallback, blocks)


def build_rejection_message(error: InputError | PolicyError) -> dict[str, Any]:
    """Why a send was refused before Octopush was called; only its author sees it."""
    if isinstance(error, PolicyError):
        lines = [
            "🚫 *Nothing was sent:* a rule set by your admins refused it.",
            f"• *{escape(error.rule)}*: {escape(error.message)}",
        ]
        fallback = f"Nothing was sent: {error.message}"
    else:
        lines = ["🚫 *Nothing was sent.* Fix this and try again:"]
        lines += [
            f"• *{FIELD_LABELS.get(field, field.replace('_', ' ').capitalize())}*: "
            f"{escape(problem)}"
            for field, problem in error.problems.items()
        ]
        fallback = f"Nothing was sent: {error}"
    blocks = [section(text) for text in chunk_lines(lines)]
    if error.audit_id is not None:
        blocks.append(context(f"audit #{error.audit_id}"))
    return message(fallback, blocks)


def build_error_message(text: str) -> dict[str, Any]:
    """A short, true line for an unexpected failure, e.g. where the audit record is."""
    return message(text, [section(f"⚠️ {escape(text)}")])


def _sent_parts(outcome: SendOutcome) -> tuple[str, str, list[tuple[str, str]]]:
    request = outcome.request
    if request.simulation:
        title = "🧪 *Simulation: nothing was sent*"
        fallback = "🧪 Simulation: nothing was sent"
    elif request.send_at is not None:
        title = f"🕒 *SMS scheduled for {slack_date(request.send_at)}*"
        fallback = f"🕒 SMS scheduled for {utc_iso(request.send_at)}"
    else:
        title, fallback = "✅ *SMS sent*", "✅ SMS sent"
    fallback += f" (audit #{outcome.audit_id})"
    pairs = [("Ticket", f"`{escape(outcome.sms_ticket or 'none')}`")]
    contacts = outcome.number_of_contacts
    if contacts is not None:
        pairs.append(("Contacts", str(contacts)))
    per = outcome.number_of_sms_needed
    if per is not None:
        total = f" ({per * contacts} in all)" if contacts and contacts > 1 else ""
        pairs.append(("SMS per recipient", f"{per}{total}"))
    if outcome.total_cost is not None:
        pairs.append(("Cost", amount(outcome.total_cost)))
    if outcome.residual_credit is not None:
        pairs.append(("Credit left", amount(outcome.residual_credit)))
    return title, fallback, pairs


def _failure_blocks(outcome: SendOutcome) -> list[dict[str, Any]]:
    reason = scrub_numbers(outcome.error_message or "no answer from Octopush")
    blocks = [section(f"*Octopush said:* {escape(truncate(reason, 1000))}")]
    if outcome.error_hint:
        hint = escape(truncate(scrub_numbers(outcome.error_hint), 1000))
        blocks.append(section(f"*What to do:* {hint}"))
    if outcome.maybe_sent:
        blocks.append(section(_MAYBE_SENT))
    return blocks


def _pending_message(outcome: SendOutcome, *, user_id: str) -> dict[str, Any]:
    text = (
        f"⏳ *Already in progress:* attempt #{outcome.audit_id} with the same request "
        "is still waiting for Octopush, so it was not sent again. Its result will be "
        "posted here."
    )
    request = outcome.request
    blocks = [
        section(text),
        section(
            f"*{recipients_label(len(request.recipients))}:* "
            f"{masked_list(request.recipients)}\n*Requested by:* {person_mention(user_id)}"
        ),
        context(f"audit #{outcome.audit_id}"),
    ]
    return message(f"Already in progress (audit #{outcome.audit_id})", blocks)


def _badges(outcome: SendOutcome) -> list[str]:
    request = outcome.request
    badges = []
    if request.simulation:
        badges.append("🧪 Simulation")
    if request.send_at is not None:
        badges.append(f"🕒 Scheduled: {slack_date(request.send_at)}")
    if request.with_replies:
        badges.append("💬 Replies collected")
    return badges
