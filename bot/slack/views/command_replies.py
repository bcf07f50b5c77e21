"""The replies to ``/sms`` itself, only ever shown to whoever typed it, as Block Kit.

Help, balance, history, the ack of a send (whom it goes to, masked), and the questions
asked before a send: a large send's estimate, and a command whose split between
recipients and message is ambiguous. Pure builders; numbers are masked, text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.audit import AuditRecord
from bot.domain import AuditStatus, Source
from bot.slack import ids
from bot.slack.views.blocks import (
    amount,
    chunk_lines,
    context,
    escape,
    masked_list,
    message,
    person_mention,
    plain,
    plural,
    quote,
    recipients_label,
    section,
    slack_date,
)

_STATUS_EMOJI = {
    AuditStatus.SENT: "✅",
    AuditStatus.FAILED: "❌",
    AuditStatus.REJECTED: "🚫",
    AuditStatus.PENDING: "⏳",
}
_UNITS = {
    "euros": "euros",
    "sms_premium": "Premium SMS",
    "sms_low_cost": "low cost SMS",
}


class CreditBalance(Protocol):
    """What a balance answer has (the gateway's own type stays out of Slack code)."""

    @property
    def amount(self) -> float: ...

    @property
    def unit(self) -> str: ...


def build_help_message() -> dict[str, Any]:
    """How to use every ``/sms`` form, with examples; shown only to whoever asked."""
    usage = [
        "*`/sms`* or *`/sms form`*: open the form (recipients, message, sender, "
        "schedule…)",
        "*`/sms RECIPIENTS MESSAGE`*: send at once. Recipients are phone numbers, "
        "Slack mentions (their profile phone) or directory names, separated by spaces "
        "or commas; the first word that is not a recipient starts the message. When "
        "a number after a recipient could also start the message, nothing is sent: "
        "you are asked which you meant",
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


def build_balance_message(balance: CreditBalance) -> dict[str, Any]:
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


def build_sending_message(recipients: Sequence[str]) -> dict[str, Any]:
    """The ack of a valid send: whom it is going to (numbers masked), before Octopush."""
    text = f"📤 Sending to {shown_recipients(recipients)}…"
    return message(text, [context(text)])


def shown_recipients(recipients: Sequence[str], limit: int = 10) -> str:
    """Recipient tokens for a reply: numbers masked, names and mentions as typed."""
    head = ", ".join(_shown(token) for token in recipients[:limit])
    more = len(recipients) - limit
    return f"{head} and {more} more" if more > 0 else head


def _shown(token: str) -> str:
    if token.startswith("<") and token.endswith(">"):
        return token  # a mention or user group: Slack shows the name
    if any(char.isdigit() for char in token) and not any(c.isalpha() for c in token):
        return masked_list([token])
    return f"*{escape(token)}*"


def build_choice_prompt(
    *,
    recipients: Sequence[str],
    unsure: Sequence[str],
    text: str,
    cautious_text: str,
    as_shown: str | None,
    certain_only: str | None,
    form: str | None,
) -> dict[str, Any]:
    """The question asked instead of guessing where the recipients end.

    ``recipients``/``text`` are the reading that takes every number as a recipient;
    ``unsure`` are the ones that could instead start ``cautious_text``. The three
    values are carried by the buttons (``None`` leaves a button out, e.g. too long).
    """
    certain = list(recipients[: len(recipients) - len(unsure)])
    lines = [
        "❓ *Where does your message start?* Nothing was sent yet.",
        f"*As typed, to {plural(len(recipients), 'recipient')}:* "
        f"{shown_recipients(recipients)}",
        quote(text),
        f"*Could also be a number in the message:* {shown_recipients(unsure)}. "
        f"To {shown_recipients(certain)} only, the message would be:",
        quote(cautious_text),
    ]
    buttons = []
    if as_shown is not None:
        buttons.append(_button(ids.SEND_AS_SHOWN, "Send as shown", as_shown, True))
    if certain_only is not None:
        label = f"Send to {plural(len(certain), 'recipient')} only"
        buttons.append(_button(ids.SEND_CERTAIN, label, certain_only, False))
    if form is not None:
        buttons.append(_button(ids.OPEN_FORM_PREFILLED, "Open the form", form, False))
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    else:
        blocks.append(
            context(
                "Too long to carry in buttons: type the command again with a comma "
                "between recipients and a line break before the message, or use `/sms`."
            )
        )
    blocks.append(
        context(
            "Tip: a comma between recipients, and a line break before the message, "
            "make a command clear."
        )
    )
    return message("Where does your message start? Nothing was sent yet.", blocks)


def _button(action_id: str, label: str, value: str, primary: bool) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(label, 75),
        "value": value,
    }
    if primary:
        button["style"] = "primary"
    return button


def describe_estimate(*, recipients: int, parts: int, cost: float | None = None) -> str:
    """``12 recipients × 2 SMS = 24 SMS, about 0.84``: what a confirmation shows."""
    who = recipients_label(recipients, count_first=True)
    text = f"{who} × {parts} SMS = {recipients * parts} SMS"
    return f"{text}, about {amount(cost)}" if cost is not None else text


def _history_line(record: AuditRecord) -> str:
    user = record.slack_user_id
    parts = [
        slack_date(record.created_at),
        person_mention(user) if user else _source_name(record.source),
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


def _source_name(source: Source) -> str:
    return "CLI" if source is Source.CLI else source.value


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
