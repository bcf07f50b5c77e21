"""What ``/sms`` answers before a send, only to whoever typed it, as Block Kit.

The ack of a valid send (whom it goes to, masked), a large send's estimate and its
confirmation, and the question asked when the split between recipients and message
is ambiguous. Pure builders; numbers are masked, text escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator, translator
from bot.slack import ids
from bot.slack.grammar import mention_user_id, subteam_id, unescape_slack
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
    """The ack of a valid send: whom it is going to (numbers masked), before Octopush.

    Mentions are Slack's own (``<@U0BOB>``, shown as the name) in the blocks, and
    ``@bob`` in the plain fallback, which is escaped so never shows Slack's markup.
    """
    tr = tr or translator()
    text = "📤 " + tr.gettext(
        "Sending to %(recipients)s…", recipients=shown_recipients(recipients, tr=tr)
    )
    fallback = "📤 " + tr.gettext(
        "Sending to %(recipients)s…",
        recipients=shown_recipients(recipients, tr=tr, plain_text=True),
    )
    return message(fallback, [context(text)])


def shown_recipients(
    recipients: Sequence[str],
    limit: int = 10,
    tr: Translator | None = None,
    *,
    plain_text: bool = False,
) -> str:
    """Recipient tokens for a reply: numbers masked, mentions as Slack shows them.

    ``plain_text`` for a message's fallback: mentions as ``@name``, no bold.
    """
    shown = _plain if plain_text else _shown
    return and_more([shown(token) for token in recipients[:limit]], len(recipients), tr)


def _shown(token: str) -> str:
    user, team = mention_user_id(token), subteam_id(token)
    if user is not None:
        return f"<@{user}>"  # Slack shows the person's name
    if team is not None:
        return f"<!subteam^{team}>"
    if _is_number(token):
        return masked_list([token])
    return f"*{escape(unescape_slack(token))}*"


def _plain(token: str) -> str:
    if _is_number(token):
        return masked_list([token])
    return unescape_slack(token)


def _is_number(token: str) -> bool:
    return any(c.isdigit() for c in token) and not any(c.isalpha() for c in token)


#: Readings shown in one question (each is a section and a button).
MAX_READINGS = 6


@dataclass(frozen=True)
class Choice:
    """One reading of an ambiguous command, as its question shows it.

    ``recipients`` are numbers in E.164 (masked here) or tokens as typed; ``warnings``
    pair a number with why it probably cannot take an SMS; ``value`` is the sealed send
    its button carries (``None``: no button, e.g. refused or too long); ``safe`` when it
    texts only recipients that every reading texts, none flagged: only such a button is
    the primary one.
    """

    recipients: Sequence[str]
    text: str
    warnings: Sequence[tuple[str, str]] = ()
    value: str | None = None
    safe: bool = False


def build_choice_prompt(
    choices: Sequence[Choice], *, form: str | None, tr: Translator | None = None
) -> dict[str, Any]:
    """The question asked instead of guessing where the recipients end.

    One section per reading (whom it texts, masked, with any number that cannot take an
    SMS flagged, and its message) with its own send button, then *Open the form*.
    """
    tr = tr or translator()
    _ = tr.gettext
    blocks: list[dict[str, Any]] = [
        section("❓ " + _("*Where does your message start?* Nothing was sent yet."))
    ]
    sendable = False
    shown = list(enumerate(choices, start=1))
    if len(shown) > MAX_READINGS:
        shown = shown[: MAX_READINGS - 1] + shown[-1:]  # the most cautious stays
    for number, choice in shown:
        lines = [
            tr.ngettext(
                "*Reading %(i)s, to %(n)s recipient:* %(recipients)s",
                "*Reading %(i)s, to %(n)s recipients:* %(recipients)s",
                len(choice.recipients),
                i=number,
                recipients=shown_recipients(choice.recipients, tr=tr),
            ),
            *(
                "⚠️ " + _("%(number)s is %(why)s", number=_shown(token), why=_(why))
                for token, why in choice.warnings
            ),
            quote(choice.text),
        ]
        blocks.append(section("\n".join(lines)))
        if choice.value is None:
            continue
        sendable = True
        action_id = ids.SEND_AS_SHOWN if number == 1 else ids.SEND_CERTAIN
        label = _("Send reading %(i)s", i=number)
        button = _button(action_id, label, choice.value, choice.safe)
        blocks.append({"type": "actions", "elements": [button]})
    if len(choices) > len(shown):
        hidden = len(choices) - len(shown)
        blocks.append(
            context(
                tr.ngettext(
                    "%(n)s other reading is not shown.",
                    "%(n)s other readings are not shown.",
                    hidden,
                )
            )
        )
    if form is not None:
        button = _button(ids.OPEN_FORM_PREFILLED, _("Open the form"), form, False)
        blocks.append({"type": "actions", "elements": [button]})
    elif not sendable:
        blocks.append(
            context(
                _(
                    "Too long to carry in buttons: type the command again with "
                    "commas between recipients or a line break before the message, "
                    "or use `/sms`."
                )
            )
        )
    blocks.append(
        context(
            _(
                "Tip: commas between recipients, or a line break before the "
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
