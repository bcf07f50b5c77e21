"""The replies to ``/sms`` itself, only ever shown to whoever typed it, as Block Kit.

Help, balance, history, the ack of a send (whom it goes to, masked), and the questions
asked before a send: a large send's estimate, and a command whose split between
recipients and message is ambiguous. Pure builders; numbers are masked, text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.audit.records import AuditRecord
from bot.domain import AuditStatus, Source
from bot.i18n import N_, Translator, translator
from bot.slack import ids
from bot.slack.views.blocks import (
    chunk_lines,
    context,
    escape,
    masked_list,
    message,
    person_mention,
    plain,
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
    "sms_premium": N_("Premium SMS"),
    "sms_low_cost": N_("low cost SMS"),
}


class CreditBalance(Protocol):
    """What a balance answer has (the gateway's own type stays out of Slack code)."""

    @property
    def amount(self) -> float: ...

    @property
    def unit(self) -> str: ...


def build_help_message(tr: Translator | None = None) -> dict[str, Any]:
    """How to use every ``/sms`` form, with examples; shown only to whoever asked."""
    _ = (tr or translator()).gettext
    usage = [
        _(
            "*`/sms`* or *`/sms form`*: open the form (recipients, message, sender, "
            "schedule…)"
        ),
        _(
            "*`/sms RECIPIENTS MESSAGE`*: send at once. Recipients are phone numbers, "
            "Slack mentions (their profile phone) or directory names, separated by "
            "spaces or commas; the first word that is not a recipient starts the "
            "message. When a number after a recipient could also start the message, "
            "nothing is sent: you are asked which you meant"
        ),
        _(
            "*`/sms page WHO MESSAGE`*: page a person, a group or whoever is on call "
            "in a rotation, as an alert with an Acknowledge button"
        ),
        _("*`/sms oncall [GROUP]`*: who is on call now and next"),
        _("*`/sms balance`*: the Octopush credit left"),
        _("*`/sms history [N]`*: the last N sends in this channel"),
        _("*`/sms help`*: this message"),
    ]
    examples = [
        _("`/sms +33612345678 Server db-1 is down`"),
        _("`/sms 0612345678 @alice Disk full on db-2`"),
        _("`/sms page db-oncall Replication lag over 5 minutes`"),
        "`/sms history 20`",
    ]
    notes = [
        _(
            "Numbers in national form (`06 12 34 56 78`) are read in the workspace's "
            "default region (`SMS_DEFAULT_REGION`); write others with `+` and the "
            "country code."
        ),
        _(
            "One SMS holds 160 characters of the GSM alphabet, or only 70 once the "
            "text has a character outside it (many accents, emoji, curly quotes): it "
            "is then sent as Unicode. Longer texts are split into several SMS, each "
            "billed."
        ),
        _("Slash commands cannot be used in threads: type `/sms` in the channel."),
        _(
            "The result is posted in the channel, with phone numbers masked; problems "
            "are shown only to you and nothing is sent."
        ),
    ]
    blocks = [
        section(
            "📱 *"
            + _("Send SMS from Slack")
            + "*\n"
            + "\n".join(f"• {line}" for line in usage)
        ),
        section("*" + _("Examples") + "*\n" + "\n".join(examples)),
        section(
            "*" + _("Good to know") + "*\n" + "\n".join(f"• {line}" for line in notes)
        ),
    ]
    return message(
        _("How to use /sms: /sms RECIPIENTS MESSAGE, /sms form, /sms help"), blocks
    )


def build_balance_message(
    balance: CreditBalance, tr: Translator | None = None
) -> dict[str, Any]:
    """The Octopush credit left, in the unit Octopush counts it in (money for euros)."""
    tr = tr or translator()
    if balance.unit == "euros":
        credit = tr.money(balance.amount)
    else:
        unit = _UNITS.get(balance.unit)
        credit = (
            f"{tr.number(balance.amount)} {tr.gettext(unit) if unit else balance.unit}"
        )
    bold = "*" + escape(credit) + "*"
    text = "💰 " + tr.gettext("Octopush credit left: %(credit)s", credit=bold)
    return message(
        tr.gettext("Octopush credit left: %(credit)s", credit=credit), [section(text)]
    )


def build_history_message(
    records: Sequence[AuditRecord], *, limit: int, tr: Translator | None = None
) -> dict[str, Any]:
    """The last sends of a channel, one line each, numbers masked."""
    tr = tr or translator()
    shown = list(records[: max(limit, 0)])
    if not shown:
        text = tr.gettext("No SMS sent from this channel yet.")
        return message(text, [section(text)])
    title = tr.ngettext(
        "Last %(n)s send in this channel",
        "Last %(n)s sends in this channel",
        len(shown),
    )
    lines = [f"🗂️ *{title}*", *(_history_line(record, tr) for record in shown)]
    blocks = [section(text) for text in chunk_lines(lines)]
    return message(title, blocks)


def build_sending_message(
    recipients: Sequence[str], tr: Translator | None = None
) -> dict[str, Any]:
    """The ack of a valid send: whom it is going to (numbers masked), before Octopush."""
    tr = tr or translator()
    text = "📤 " + tr.gettext(
        "Sending to %(recipients)s…", recipients=shown_recipients(recipients, tr=tr)
    )
    return message(text, [context(text)])


def shown_recipients(
    recipients: Sequence[str], limit: int = 10, tr: Translator | None = None
) -> str:
    """Recipient tokens for a reply: numbers masked, names and mentions as typed."""
    head = ", ".join(_shown(token) for token in recipients[:limit])
    more = len(recipients) - limit
    if more <= 0:
        return head
    return (tr or translator()).ngettext(
        "%(head)s and %(n)s more", "%(head)s and %(n)s more", more, head=head
    )


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
    tr: Translator | None = None,
) -> dict[str, Any]:
    """The question asked instead of guessing where the recipients end.

    ``recipients``/``text`` are the reading that takes every number as a recipient;
    ``unsure`` are the ones that could instead start ``cautious_text``. The three
    values are carried by the buttons (``None`` leaves a button out, e.g. too long).
    """
    tr = tr or translator()
    _ = tr.gettext
    certain = list(recipients[: len(recipients) - len(unsure)])
    lines = [
        "❓ " + _("*Where does your message start?* Nothing was sent yet."),
        tr.ngettext(
            "*As typed, to %(n)s recipient:* %(recipients)s",
            "*As typed, to %(n)s recipients:* %(recipients)s",
            len(recipients),
            recipients=shown_recipients(recipients, tr=tr),
        ),
        quote(text),
        _(
            "*Could also be a number in the message:* %(unsure)s. "
            "To %(certain)s only, the message would be:",
            unsure=shown_recipients(unsure, tr=tr),
            certain=shown_recipients(certain, tr=tr),
        ),
        quote(cautious_text),
    ]
    buttons = []
    if as_shown is not None:
        buttons.append(_button(ids.SEND_AS_SHOWN, _("Send as shown"), as_shown, True))
    if certain_only is not None:
        label = tr.ngettext(
            "Send to %(n)s recipient only",
            "Send to %(n)s recipients only",
            len(certain),
        )
        buttons.append(_button(ids.SEND_CERTAIN, label, certain_only, False))
    if form is not None:
        buttons.append(
            _button(ids.OPEN_FORM_PREFILLED, _("Open the form"), form, False)
        )
    blocks: list[dict[str, Any]] = [section("\n".join(lines))]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    else:
        blocks.append(
            context(
                _(
                    "Too long to carry in buttons: type the command again with a "
                    "comma between recipients and a line break before the message, "
                    "or use `/sms`."
                )
            )
        )
    blocks.append(
        context(
            _(
                "Tip: a comma between recipients, and a line break before the "
                "message, make a command clear."
            )
        )
    )
    return message(_("Where does your message start? Nothing was sent yet."), blocks)


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


def describe_estimate(
    *,
    recipients: int,
    parts: int,
    cost: float | None = None,
    tr: Translator | None = None,
) -> str:
    """``12 recipients × 2 SMS = 24 SMS, about €0.84``: what a confirmation shows."""
    tr = tr or translator()
    who = recipients_label(recipients, count_first=True, tr=tr)
    text = tr.gettext(
        "%(who)s × %(parts)s SMS = %(total)s SMS",
        who=who,
        parts=tr.number(parts),
        total=tr.number(recipients * parts),
    )
    if cost is None:
        return text
    return tr.gettext(
        "%(estimate)s, about %(cost)s", estimate=text, cost=tr.money(cost)
    )


#: How the history names each status (the audit trail keeps the English value).
_STATUS_WORDS = {
    AuditStatus.SENT: N_("sent"),
    AuditStatus.FAILED: N_("failed"),
    AuditStatus.REJECTED: N_("rejected"),
    AuditStatus.PENDING: N_("pending"),
}


def _history_line(record: AuditRecord, tr: Translator) -> str:
    _ = tr.gettext
    user = record.slack_user_id
    status = _STATUS_WORDS.get(record.status, record.status.value)
    parts = [
        slack_date(record.created_at),
        person_mention(user, tr) if user else _source_name(record.source),
        masked_list(record.recipients, shown=3, tr=tr) or _("no recipients"),
        f"{_STATUS_EMOJI.get(record.status, '')} {_(status)}",
    ]
    if record.simulation:
        parts.append("🧪 " + _("simulation"))
    if record.send_at is not None:
        parts.append("🕒 " + _("for %(when)s", when=slack_date(record.send_at)))
    if record.sms_ticket:
        parts.append(f"`{escape(record.sms_ticket)}`")
    if record.number_of_sms_needed is not None:
        parts.append(_("%(count)s SMS", count=tr.number(record.number_of_sms_needed)))
    if record.total_cost is not None:
        parts.append(_("cost %(cost)s", cost=tr.money(record.total_cost)))
    if record.error_code:
        code = f"`{escape(record.error_code)}`"
        parts.append(_("error %(code)s", code=code))
    return f"• #{record.id} " + " · ".join(parts)


def _source_name(source: Source) -> str:
    return "CLI" if source is Source.CLI else source.value


def build_confirm_prompt(
    *, value: str, estimate: str, limit: int, tr: Translator | None = None
) -> dict[str, Any]:
    """Ephemeral question before a large ``/sms`` send: the estimate, Send and Cancel.

    ``value`` (≤ 2000 characters) carries the send to the button handler.
    """
    _ = (tr or translator()).gettext
    text = _(
        "This send is large: %(estimate)s (more than SMS_CONFIRM_ABOVE = %(limit)s SMS).",
        estimate=estimate,
        limit=limit,
    )
    until = _("Nothing is sent until you press *Send*.")
    return {
        "text": text,
        "blocks": [
            section(f"💸 {escape(text)}\n{until}"),
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ids.CONFIRM_SEND,
                        "style": "primary",
                        "text": plain(_("Send"), 75),
                        "value": value,
                    },
                    {
                        "type": "button",
                        "action_id": ids.CANCEL_SEND,
                        "text": plain(_("Cancel"), 75),
                        "value": "cancel",
                    },
                ],
            },
        ],
    }
