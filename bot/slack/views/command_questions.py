"""What ``/sms`` answers before a send, only to whoever typed it, as Block Kit.

The ack of a valid send (whom it goes to, masked), a large send's estimate and its
confirmation, and the question asked when the split between recipients and message
is ambiguous. Pure builders; numbers are masked, text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import Translator, translator
from bot.slack import ids
from bot.slack.views.blocks import (
    and_more,
    context,
    escape,
    masked_list,
    message,
    plain,
    quote,
    recipients_label,
    section,
)


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
    return and_more(
        [_shown(token) for token in recipients[:limit]], len(recipients), tr
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
def build_confirm_prompt(
    *, value: str, estimate: str, limit: int, tr: Translator | None = None
) -> dict[str, Any]:
    """Ephemeral question before a large ``/sms`` send: the estimate, Send and Cancel.

    ``value`` (≤ 2000 characters) carries the send to the button handler.
    """
    _ = (tr or translator()).gettext
    text = _(
        "This send is large: %(estimate)s (more than %(limit)s SMS).",
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
