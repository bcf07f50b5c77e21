"""The result of a send (channel post) and the reasons a send was refused, as Block Kit.

Replies to ``/sms`` itself (help, balance, history, the ack, the questions asked before a
send) live in :mod:`bot.slack.views.command_replies`. Pure builders: they return
``{"text": fallback, "blocks": [...]}`` and the handlers post them. Phone numbers are
always masked and typed text is always escaped here, so no caller can leak a number into
a channel or smuggle ``<!channel>`` into a post.

Every builder takes ``tr``: the workspace's translator for a channel post, the reader's
for an ephemeral answer (English when not given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.audit.deliveries import Delivery
from bot.domain import AuditStatus, SendOutcome
from bot.errors import InputError, PolicyError
from bot.i18n import Deferred, Translator, translator
from bot.i18n.octopush_hints import sender_hint
from bot.sending.cancel_rules import cancel_obstacle
from bot.sending.gateway import DeliveryStatus
from bot.sending.policy import rule_label
from bot.slack import ids
from bot.slack.views.blocks import (
    chunk_lines,
    context,
    escape,
    field_label,
    fields_section,
    message,
    named_list,
    person_mention,
    quote,
    recipients_label,
    scrub_numbers,
    section,
    slack_date,
    truncate,
    utc_iso,
)


def build_result_message(
    outcome: SendOutcome,
    *,
    user_id: str,
    tr: Translator | None = None,
    names: Mapping[str, str] | None = None,
    deliveries: Sequence[Delivery] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The channel post for one attempt: what happened, what it cost, who did it.

    ``names``: the recipients the sender named (a directory name, a mention), shown
    before their masked number. ``deliveries``: the receipts so far; once one says
    "not delivered", the header says how many of the recipients got it. A scheduled
    send Octopush would still cancel at ``now`` carries a *Cancel* button.
    """
    tr = tr or translator()
    _ = tr.gettext
    names = names or {}
    if outcome.status is AuditStatus.PENDING:
        return _pending_message(outcome, user_id=user_id, tr=tr, names=names)
    if outcome.status is AuditStatus.SENT:
        title, fallback, pairs = _sent_parts(outcome, tr)
        undelivered = _undelivered(outcome, deliveries, tr)
        if undelivered is not None:
            title, fallback = undelivered
    elif outcome.status is AuditStatus.CANCELLED:
        title, fallback, pairs = _cancelled_parts(outcome, tr)
    else:
        title = "❌ *" + _("SMS not sent") + "*"
        fallback = "❌ " + _(
            "SMS not sent (audit #%(audit_id)s)", audit_id=outcome.audit_id
        )
        code = outcome.error_code
        pairs = [(_("Octopush error"), f"`{escape(code)}`")] if code else []
        if outcome.sms_ticket:  # batches stopped part-way: some SMS went out
            title = "⚠️ *" + _("SMS partly sent") + "*"
            fallback = "⚠️ " + _(
                "SMS partly sent (audit #%(audit_id)s)", audit_id=outcome.audit_id
            )
            pairs.insert(0, (_("Ticket"), f"`{escape(outcome.sms_ticket)}`"))
    request = outcome.request
    pairs += [
        (
            _("Sender"),
            escape(request.sender) if request.sender else _("account default"),
        ),
        (
            _("Sent by") if outcome.ok else _("Requested by"),
            person_mention(user_id, tr),
        ),
    ]
    blocks = [section(title), fields_section(pairs)]
    if outcome.status not in (AuditStatus.SENT, AuditStatus.CANCELLED):
        blocks += _failure_blocks(outcome, tr)
    then = _("Then:")
    blocks += [
        section(f"⚠️ *{then}* {escape(_(problem))}") for problem in outcome.problems
    ]
    if outcome.duplicate:
        blocks.append(
            context(
                "↩️ "
                + _(
                    "Same request as before: this is its recorded result, not a new send."
                )
            )
        )
    count = len(request.recipients)
    label = recipients_label(count, tr=tr)
    shown = named_list(request.recipients, names, tr=tr)
    blocks.append(section(f"*{label}:* {shown}"))
    if request.text:
        blocks.append(section(quote(request.text)))
    badges = _badges(outcome, tr)
    if badges:
        blocks.append(context(*badges))
    blocks.append(context(_("audit #%(audit_id)s", audit_id=outcome.audit_id)))
    if _cancellable(outcome, now or datetime.now(UTC)):
        blocks.append(_cancel_button(outcome, tr))
    return message(fallback, blocks)


def _cancellable(outcome: SendOutcome, now: datetime) -> bool:
    """Whether Octopush would cancel this send now (the month's quota aside)."""
    request = outcome.request
    return (
        cancel_obstacle(
            status=outcome.status,
            send_at=request.send_at,
            ticket=outcome.sms_ticket,
            simulation=request.simulation,
            recipients=request.recipients,
            now=now,
        )
        is None
    )


def _cancel_button(outcome: SendOutcome, tr: Translator) -> dict[str, Any]:
    """*Cancel*, with a confirmation: an SMS taken back cannot be put back."""
    _ = tr.gettext
    return {
        "type": "actions",
        "block_id": ids.CANCEL_SCHEDULED_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": ids.CANCEL_SCHEDULED,
                "text": {"type": "plain_text", "text": _("Cancel")},
                "value": str(outcome.audit_id),
                "style": "danger",
                "confirm": {
                    "title": {"type": "plain_text", "text": _("Cancel this SMS?")},
                    "text": {
                        "type": "mrkdwn",
                        "text": _(
                            "The scheduled SMS will not go out. Only its sender or "
                            "an admin can do this."
                        ),
                    },
                    "confirm": {"type": "plain_text", "text": _("Cancel the SMS")},
                    "deny": {"type": "plain_text", "text": _("Keep it")},
                },
            }
        ],
    }


def _cancelled_parts(
    outcome: SendOutcome, tr: Translator
) -> tuple[str, str, list[tuple[str, str]]]:
    """Header and fields of a scheduled send that was cancelled: who, when."""
    _ = tr.gettext
    words = _("Scheduled SMS cancelled")
    title = f"↩️ *{words}*"
    fallback = f"↩️ {words} " + _("(audit #%(audit_id)s)", audit_id=outcome.audit_id)
    pairs = [(_("Ticket"), f"`{escape(outcome.sms_ticket or _('none'))}`")]
    who = outcome.cancelled_by
    if who and who != "cli":
        shown = person_mention(who, tr)
    else:
        shown = _("an operator (command line)")
    pairs.append((_("Cancelled by"), shown))
    if outcome.cancelled_at is not None:
        pairs.append((_("Cancelled at"), slack_date(outcome.cancelled_at)))
    if outcome.request.send_at is not None:
        pairs.append((_("Was scheduled for"), slack_date(outcome.request.send_at)))
    return title, fallback, pairs


def build_rejection_message(
    error: InputError | PolicyError, tr: Translator | None = None
) -> dict[str, Any]:
    """Why a send was refused before Octopush was called; only its author sees it."""
    tr = tr or translator()
    _ = tr.gettext
    if isinstance(error, PolicyError):
        reason = _(error.message)
        lines = [
            "🚫 *"
            + _("Nothing was sent:")
            + "* "
            + _("a rule set by your admins refused it."),
            f"• *{escape(_(rule_label(error.rule)))}*: {escape(reason)}",
        ]
        fallback = _("Nothing was sent: %(reason)s", reason=reason)
    else:
        problems = {field: _(problem) for field, problem in error.problems.items()}
        lines = ["🚫 *" + _("Nothing was sent.") + "* " + _("Fix this and try again:")]
        lines += [
            f"• *{field_label(field, tr)}*: {escape(problem)}"
            for field, problem in problems.items()
        ]
        fallback = _(
            "Nothing was sent: %(reason)s", reason="; ".join(problems.values())
        )
    blocks = [section(text) for text in chunk_lines(lines)]
    if error.audit_id is not None:
        blocks.append(context(_("audit #%(audit_id)s", audit_id=error.audit_id)))
    return message(fallback, blocks)


def build_error_message(text: str, tr: Translator | None = None) -> dict[str, Any]:
    """A short, true line for an unexpected failure, e.g. where the audit record is.

    ``text`` is English (a msgid, or a :class:`bot.i18n.Deferred`); ``tr`` shows it.
    """
    shown = (tr or translator()).gettext(text)
    return message(shown, [section(f"⚠️ {escape(shown)}")])


def _sent_parts(
    outcome: SendOutcome, tr: Translator
) -> tuple[str, str, list[tuple[str, str]]]:
    _ = tr.gettext
    request = outcome.request
    if request.simulation:
        title = "🧪 *" + _("Simulation: nothing was sent") + "*"
        fallback = "🧪 " + _("Simulation: nothing was sent")
    elif request.send_at is not None:
        title = (
            "🕒 *"
            + _("SMS scheduled for %(when)s", when=slack_date(request.send_at))
            + "*"
        )
        fallback = "🕒 " + _(
            "SMS scheduled for %(when)s", when=utc_iso(request.send_at)
        )
    else:
        title = "✅ *" + _("SMS sent") + "*"
        fallback = "✅ " + _("SMS sent")
    fallback += " " + _("(audit #%(audit_id)s)", audit_id=outcome.audit_id)
    pairs = [(_("Ticket"), f"`{escape(outcome.sms_ticket or _('none'))}`")]
    contacts = outcome.number_of_contacts
    if contacts is not None:
        pairs.append((_("Contacts"), tr.number(contacts)))
    per = outcome.number_of_sms_needed
    if per is not None:
        shown = tr.number(per)
        if contacts and contacts > 1:
            shown = _(
                "%(each)s (%(total)s in all)",
                each=shown,
                total=tr.number(per * contacts),
            )
        pairs.append((_("SMS per recipient"), shown))
    if outcome.total_cost is not None:
        pairs.append((_("Cost"), tr.money(outcome.total_cost)))
    if outcome.residual_credit is not None:
        pairs.append((_("Credit left"), tr.money(outcome.residual_credit)))
    return title, fallback, pairs


def _failure_blocks(outcome: SendOutcome, tr: Translator) -> list[dict[str, Any]]:
    _ = tr.gettext
    # Octopush's own words are quoted as they came; what the bot wrote (a timeout,
    # a batch that stopped, outcome unknown) is marked and shown translated.
    said = outcome.error_message
    if isinstance(said, Deferred):
        said = _(said)
    reason = scrub_numbers(said or _("no answer from Octopush"))
    blocks = [
        section("*" + _("Octopush said:") + "* " + escape(truncate(reason, 1000)))
    ]
    hint = sender_hint(tr, outcome.error_hint)
    if hint:
        shown = escape(truncate(scrub_numbers(hint), 1000))
        blocks.append(section("*" + _("What to do:") + "* " + shown))
    if outcome.maybe_sent:
        blocks.append(
            section(
                "⚠️ "
                + _(
                    "The connection broke after the request left, so Octopush may "
                    "have received it and sent the SMS. Check the Octopush campaign "
                    "list before sending again."
                )
            )
        )
    return blocks


def _undelivered(
    outcome: SendOutcome, deliveries: Sequence[Delivery], tr: Translator
) -> tuple[str, str] | None:
    """The header and fallback once receipts say some recipients did not get it."""
    failed = {d.number for d in deliveries if _delivery_failed(d.status)}
    if not failed:
        return None
    _ = tr.gettext
    total = len(outcome.request.recipients)
    reached = max(total - len(failed), 0)
    audit = _("(audit #%(audit_id)s)", audit_id=outcome.audit_id)
    if reached == 0:
        words = _("SMS not delivered")
        return f"❌ *{words}*", f"❌ {words} {audit}"
    words = _("SMS sent to %(reached)s of %(total)s", reached=reached, total=total)
    return f"⚠️ *{words}*", f"⚠️ {words} {audit}"


def _delivery_failed(status: str) -> bool:
    try:
        return DeliveryStatus(status).is_failure
    except ValueError:
        return False


def _pending_message(
    outcome: SendOutcome,
    *,
    user_id: str,
    tr: Translator,
    names: Mapping[str, str],
) -> dict[str, Any]:
    _ = tr.gettext
    text = "⏳ " + _(
        "*Already in progress:* attempt #%(audit_id)s with the same request is still "
        "waiting for Octopush, so it was not sent again. Its result will be posted "
        "here.",
        audit_id=outcome.audit_id,
    )
    request = outcome.request
    label = recipients_label(len(request.recipients), tr=tr)
    requested = _("Requested by")
    blocks = [
        section(text),
        section(
            f"*{label}:* {named_list(request.recipients, names, tr=tr)}\n"
            f"*{requested}:* {person_mention(user_id, tr)}"
        ),
        context(_("audit #%(audit_id)s", audit_id=outcome.audit_id)),
    ]
    return message(
        _("Already in progress (audit #%(audit_id)s)", audit_id=outcome.audit_id),
        blocks,
    )


def _badges(outcome: SendOutcome, tr: Translator) -> list[str]:
    _ = tr.gettext
    request = outcome.request
    badges = []
    if request.simulation:
        badges.append("🧪 " + _("Simulation"))
    if request.send_at is not None:
        badges.append(
            "🕒 " + _("Scheduled: %(when)s", when=slack_date(request.send_at))
        )
    if request.with_replies:
        badges.append("💬 " + _("Replies collected"))
    return badges
