"""Every channel post and ephemeral reply the bot shows, as Block Kit dicts.

Pure builders: they return ``{"text": fallback, "blocks": [...]}`` and the handlers post
them. Phone numbers are always masked and typed text is always escaped here, so no
caller can leak a number into a channel or smuggle ``<!channel>`` into a post.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.audit import AuditRecord
from bot.domain import AuditStatus, SendOutcome, Source
from bot.errors import InputError, PolicyError
from bot.octopush import Balance
from bot.slack import ids
from bot.slack.views.blocks import (
    FIELD_LABELS,
    amount,
    chunk_lines,
    context,
    escape,
    fields_section,
    masked_list,
    message,
    plain,
    plural,
    quote,
    scrub_numbers,
    section,
    slack_date,
    truncate,
    utc_iso,
)

_STATUS_EMOJI = {
    AuditStatus.SENT: "✅",
    AuditStatus.FAILED: "❌",
    AuditStatus.REJECTED: "🚫",
    AuditStatus.PENDING: "⏳",
}
_MAYBE_SENT = (
    "⚠️ The connection broke after the request left, so Octopush may have received "
    "it and sent the SMS. Check the Octopush campaign list before sending again."
)
_UNITS = {
    "euros": "euros",
    "sms_premium": "Premium SMS",
    "sms_low_cost": "low cost SMS",
}


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
        ("Sent by" if outcome.ok else "Requested by", _person(user_id)),
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
        section(f"*{_recipients_label(count)}:* {masked_list(request.recipients)}")
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


def build_help_message() -> dict[str, Any]:
    """How to use every ``/sms`` form, with examples; shown only to whoever asked."""
    usage = [
        "*`/sms`* or *`/sms form`*: open the form (recipients, message, sender, "
        "schedule…)",
        "*`/sms RECIPIENTS MESSAGE`*: send at once. Recipients are phone numbers, "
        "Slack mentions (their profile phone) or directory names, separated by spaces "
        "or commas; the first word that is not a recipient starts the message",
        "*`/sms page WHO MESSAGE`*: page a person, a group or whoever is on call in a "
        "rotation, as an alert with an Acknowledge button",
        "*`/sms oncall [GROUP]`*: who is on call now and next",
        "*`/sms balance`*: the Octopush credit left",
        "*`/sms history [N]`*: the last N sends in this channel",
        "*`/sms help`*: this message",
    ]
    examples = [
        "`/sms +33612345678 Server db-1 is down`",
        "`/sms 0612345678 @alice Disk full on db-2`",
        "`/sms page db-oncall Replication lag over 5 minutes`",
        "`/sms history 20`",
    ]
    notes = [
        "• Numbers in national form (`06 12 34 56 78`) are read in the workspace's "
        "default region (`SMS_DEFAULT_REGION`); write others with `+` and the "
        "country code.",
        "• One SMS holds 160 characters of the GSM alphabet, or only 70 once the "
        "text has a character outside it (many accents, emoji, curly quotes): it is "
        "then sent as Unicode. Longer texts are split into several SMS, each billed.",
        "• Slash commands cannot be used in threads: type `/sms` in the channel.",
        "• The result is posted in the channel, with phone numbers masked; problems "
        "are shown only to you and nothing is sent.",
    ]
    blocks = [
        section(
            "📱 *Send SMS from Slack*\n" + "\n".join(f"• {line}" for line in usage)
        ),
        section("*Examples*\n" + "\n".join(examples)),
        section("*Good to know*\n" + "\n".join(notes)),
    ]
    return message(
        "How to use /sms: /sms RECIPIENTS MESSAGE, /sms form, /sms help", blocks
    )


def build_balance_message(balance: Balance) -> dict[str, Any]:
    """The Octopush credit left, in the unit Octopush counts it in."""
    unit = _UNITS.get(balance.unit, balance.unit)
    text = f"💰 Octopush credit left: *{amount(balance.amount)} {escape(unit)}*"
    return message(
        f"Octopush credit left: {amount(balance.amount)} {unit}", [section(text)]
    )


def build_history_message(
    records: Sequence[AuditRecord], *, limit: int
) -> dict[str, Any]:
    """The last sends of a channel, one line each, numbers masked."""
    shown = list(records[: max(limit, 0)])
    if not shown:
        text = "No SMS sent from this channel yet."
        return message(text, [section(text)])
    heading = f"🗂️ *Last {plural(len(shown), 'send')} in this channel*"
    lines = [heading, *(_history_line(record) for record in shown)]
    blocks = [section(text) for text in chunk_lines(lines)]
    return message(f"Last {plural(len(shown), 'send')} in this channel", blocks)


def build_error_message(text: str) -> dict[str, Any]:
    """A short, true line for an unexpected failure, e.g. where the audit record is."""
    return message(text, [section(f"⚠️ {escape(text)}")])


def build_sending_message(count: int) -> dict[str, Any]:
    """The immediate ephemeral reply while Octopush is being called."""
    text = f"📤 Sending to {_recipients_label(count, count_first=True)}…"
    return message(text, [context(text)])


def describe_estimate(*, recipients: int, parts: int, cost: float | None = None) -> str:
    """``12 recipients × 2 SMS = 24 SMS, about 0.84``: what a confirmation shows."""
    who = _recipients_label(recipients, count_first=True)
    text = f"{who} × {parts} SMS = {recipients * parts} SMS"
    return f"{text}, about {amount(cost)}" if cost is not None else text


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
            f"*{_recipients_label(len(request.recipients))}:* "
            f"{masked_list(request.recipients)}\n*Requested by:* {_person(user_id)}"
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


def _history_line(record: AuditRecord) -> str:
    user = record.slack_user_id
    parts = [
        slack_date(record.created_at),
        _person(user) if user else _source_name(record.source),
        masked_list(record.recipients, shown=3) or "no recipients",
        f"{_STATUS_EMOJI.get(record.status, '')} {record.status.value}",
    ]
    if record.simulation:
        parts.append("🧪 simulation")
    if record.send_at is not None:
        parts.append(f"🕒 for {slack_date(record.send_at)}")
    if record.sms_ticket:
        parts.append(f"`{escape(record.sms_ticket)}`")
    if record.number_of_sms_needed is not None:
        parts.append(f"{record.number_of_sms_needed} SMS")
    if record.total_cost is not None:
        parts.append(f"cost {amount(record.total_cost)}")
    if record.error_code:
        parts.append(f"error `{escape(record.error_code)}`")
    return f"• #{record.id} " + " · ".join(parts)


def _person(user_id: str) -> str:
    """Who asked, as a mention; an unknown sender is said so rather than left blank."""
    return f"<@{escape(user_id)}>" if user_id else "someone (unknown)"


def _source_name(source: Source) -> str:
    return "CLI" if source is Source.CLI else source.value


def _recipients_label(count: int, *, count_first: bool = False) -> str:
    if count_first:
        return plural(count, "recipient")
    return "Recipient" if count == 1 else f"Recipients ({count})"


def build_confirm_prompt(*, value: str, estimate: str, limit: int) -> dict[str, Any]:
    """Ephemeral question before a large ``/sms`` send: the estimate, Send and Cancel.

    ``value`` (≤ 2000 characters) carries the send to the button handler.
    """
    text = (
        f"This send is large: {estimate} (more than SMS_CONFIRM_ABOVE = {limit} SMS)."
    )
    return {
        "text": text,
        "blocks": [
            section(f"💸 {escape(text)}\nNothing is sent until you press *Send*."),
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.CONFIRM_SEND,
                        "style": "primary",
                        "text": plain("Send", 75),
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": ids.CANCEL_SEND,
                        "text": plain("Cancel", 75),
                        "value": "cancel",
                    },
                ],
            },
        ],
    }
