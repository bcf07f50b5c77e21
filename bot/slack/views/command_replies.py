"""The replies to ``/sms`` itself, only ever shown to whoever typed it, as Block Kit.

Help, balance and history. What is asked before a send (the ack, estimates, the
ambiguous-split question) is in :mod:`bot.slack.views.command_questions`. Pure builders;
numbers are masked, text escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.audit.records import AuditRecord
from bot.domain import AuditStatus, Source
from bot.i18n import N_, Translator, translator
from bot.slack.views.blocks import (
    chunk_lines,
    escape,
    message,
    named_list,
    person_mention,
    scrub_numbers,
    section,
    slack_date,
)

_STATUS_EMOJI = {
    AuditStatus.SENT: "✅",
    AuditStatus.FAILED: "❌",
    AuditStatus.REJECTED: "🚫",
    AuditStatus.PENDING: "⏳",
    AuditStatus.CANCELLED: "↩️",
}
_UNITS = {
    "sms_premium": N_("Premium SMS"),
    "sms_low_cost": N_("low cost SMS"),
    "vocal_sms": N_("voice calls"),
}


class CreditBalance(Protocol):
    """What a balance answer has (the gateway's own type stays out of Slack code)."""

    @property
    def amount(self) -> float: ...

    @property
    def unit(self) -> str: ...


def build_help_message(
    tr: Translator | None = None, *, suggestion: str | None = None
) -> dict[str, Any]:
    """How to use every ``/sms`` form, with examples; shown only to whoever asked.

    ``suggestion``: the sub-command a misspelt first word (``hlep``) probably meant;
    the usage follows the question, and nothing was sent.
    """
    _ = (tr or translator()).gettext
    usage = [
        _(
            "*`/sms`* or *`/sms form`*: open the form (recipients, message, sender, "
            "schedule…)"
        ),
        _(
            "*`/sms RECIPIENTS MESSAGE`*: send at once. Recipients are phone numbers, "
            "Slack mentions (their profile phone) or directory names, separated by "
            "commas; the first word that is not a recipient starts the message. When "
            "a recipient after a space could also start the message, nothing is sent: "
            "you are asked which you meant. A line break before the message never "
            "needs a question"
        ),
        _(
            "*`/sms page WHO MESSAGE`*: page a person, a group or whoever is on call "
            "in a rotation, as an alert with an Acknowledge button"
        ),
        _("*`/sms oncall [GROUP]`*: who is on call now and next"),
        _("*`/sms balance`*: the Octopush credit left"),
        _("*`/sms history [N]`*: the last N sends in this channel"),
        _(
            "*`/sms cancel TICKET`*: cancel a scheduled send (its sender or an admin; "
            "1 or 2 recipients, more than 10 minutes ahead)"
        ),
        _("*`/sms help`*: this message"),
    ]
    did_you_mean = _(
        "Did you mean `/sms %(command)s`? Nothing was sent.", command=suggestion
    )
    examples = [
        _("`/sms +33612345678 Server db-1 is down`"),
        _("`/sms 0612345678, @alice Disk full on db-2`"),
        _("`/sms page db-oncall Replication lag over 5 minutes`"),
        "`/sms history 20`",
        "`/sms cancel sms_5fec89fe97109`",
    ]
    notes = [
        _(
            "Numbers in national form (`06 12 34 56 78`) are read in the workspace's "
            "default country; write others with `+` and the country code."
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
    blocks = [] if suggestion is None else [section("🤔 " + did_you_mean)]
    blocks += [
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
    summary = _("How to use /sms: /sms RECIPIENTS MESSAGE, /sms form, /sms help")
    if suggestion is not None:
        summary = did_you_mean + " " + summary
    return message(summary, blocks)


def build_balance_message(
    balance: CreditBalance,
    tr: Translator | None = None,
    *,
    voice: CreditBalance | None = None,
) -> dict[str, Any]:
    """The Octopush credit left, in the unit Octopush counts it in (money for euros).

    ``voice``: the voice credit, shown when a rotation calls (``call_after``).
    """
    tr = tr or translator()
    credit = _credit(balance, tr)
    bold = "*" + escape(credit) + "*"
    text = "💰 " + tr.gettext("Octopush credit left: %(credit)s", credit=bold)
    plain = tr.gettext("Octopush credit left: %(credit)s", credit=credit)
    if voice is not None:
        calls = _credit(voice, tr)
        text += "\n📞 " + tr.gettext(
            "Voice credit: %(credit)s", credit="*" + escape(calls) + "*"
        )
        plain += " " + tr.gettext("Voice credit: %(credit)s", credit=calls)
    return message(plain, [section(text)])


def _credit(balance: CreditBalance, tr: Translator) -> str:
    if balance.unit == "euros":
        return tr.money(balance.amount)
    unit = _UNITS.get(balance.unit)
    return f"{tr.number(balance.amount)} {tr.gettext(unit) if unit else balance.unit}"


def build_history_message(
    records: Sequence[AuditRecord],
    *,
    limit: int,
    tr: Translator | None = None,
    names: Mapping[int, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The last sends of a channel, one line each, numbers masked.

    ``names``: per audit id, the recipients the sender named, shown as in the post.
    """
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
    known = names or {}
    lines = [
        f"🗂️ *{title}*",
        *(_history_line(record, tr, known.get(record.id, {})) for record in shown),
    ]
    blocks = [section(text) for text in chunk_lines(lines)]
    return message(title, blocks)


_STATUS_WORDS = {
    AuditStatus.SENT: N_("sent"),
    AuditStatus.FAILED: N_("failed"),
    AuditStatus.REJECTED: N_("rejected"),
    AuditStatus.PENDING: N_("pending"),
    AuditStatus.CANCELLED: N_("cancelled"),
}


def _history_line(record: AuditRecord, tr: Translator, names: Mapping[str, str]) -> str:
    _ = tr.gettext
    user = record.slack_user_id
    status = _STATUS_WORDS.get(record.status, record.status.value)
    parts = [
        slack_date(record.created_at),
        person_mention(user, tr) if user else _source_name(record.source),
        named_list(record.recipients, names, shown=3, tr=tr) or _("no recipients"),
        f"{_STATUS_EMOJI.get(record.status, '')} {_(status)}",
    ]
    parts.append(_snippet(record, tr))
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


#: Characters of a send's text shown in the history.
SNIPPET_LENGTH = 40


def _snippet(record: AuditRecord, tr: Translator) -> str:
    """The start of the text on one line, numbers in it masked; or that it was not kept."""
    if record.text is None:
        return "_" + tr.gettext("text not kept") + "_"
    # Masked before it is cut: a number cut in half would no longer look like one.
    line = scrub_numbers(" ".join(record.text.split()))
    if len(line) > SNIPPET_LENGTH:
        line = line[: SNIPPET_LENGTH - 1].rstrip() + "…"
    return tr.gettext("“%(text)s”", text=escape(line))


def _source_name(source: Source) -> str:
    return "CLI" if source is Source.CLI else source.value
