"""The send form after submit: "checking…", the form again with its problems, "sending".

The submission's ack does no I/O but storing it: it swaps the form for
:func:`build_checking_view`, and a sender, once Slack profiles, user groups and the
guard have answered,
``views.update``s it to the confirmation, to :func:`build_sending_view`, or back to the
form as submitted with the problems on top (:func:`refill_form`). Pure builders.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.errors import InputError, PolicyError
from bot.i18n import Translator, translator
from bot.sending.policy import rule_label
from bot.slack import ids
from bot.slack.views.blocks import context, escape, field_label, plain, section
from bot.slack.views.modals import VIEW_UPDATE_KEYS


def build_checking_view(
    private_metadata: str, tr: Translator | None = None
) -> dict[str, Any]:
    """What the form becomes the moment it is submitted, while the lookups run."""
    _ = (tr or translator()).gettext
    return {
        "type": "modal",
        "callback_id": ids.CHECKING_MODAL,
        "title": plain(_("Send an SMS"), 24),
        "close": plain(_("Close"), 24),
        "private_metadata": private_metadata,
        "blocks": [
            section(
                "⏳ "
                + _("*Checking the recipients…* Nothing is sent before this ends.")
            ),
        ],
    }


def build_sending_view(
    *, recipients: int, channel_id: str | None, tr: Translator | None = None
) -> dict[str, Any]:
    """The checks passed: the send is under way; its result goes to the channel."""
    tr = tr or translator()
    _ = tr.gettext
    if channel_id:
        channel = "<#" + escape(channel_id) + ">"
        text = tr.ngettext(
            "*Sending to %(n)s recipient.* The result will be posted in %(channel)s.",
            "*Sending to %(n)s recipients.* The result will be posted in %(channel)s.",
            recipients,
            channel=channel,
        )
    else:
        text = tr.ngettext(
            "*Sending to %(n)s recipient.* The result will be posted.",
            "*Sending to %(n)s recipients.* The result will be posted.",
            recipients,
        )
    return {
        "type": "modal",
        "callback_id": ids.CHECKING_MODAL,
        "title": plain(_("Send an SMS"), 24),
        "close": plain(_("Close"), 24),
        "blocks": [
            section("📤 " + text),
            context(_("You can close this window.")),
        ],
    }


def refill_form(
    view: Mapping[str, Any],
    problem: InputError | PolicyError,
    tr: Translator | None = None,
) -> dict[str, Any]:
    """The submitted form again, with what was entered and ``problem`` on top."""
    values = (view.get("state") or {}).get("values") or {}
    updated = {key: copy.deepcopy(view[key]) for key in VIEW_UPDATE_KEYS if key in view}
    blocks = [
        _refilled(block, values.get(block.get("block_id")) or {})
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("block_id") != ids.PROBLEMS_BLOCK
    ]
    notice = section("\n".join(_problem_lines(problem, tr or translator())))
    notice["block_id"] = ids.PROBLEMS_BLOCK
    updated["blocks"] = [notice, *blocks]
    return updated


def _problem_lines(problem: InputError | PolicyError, tr: Translator) -> list[str]:
    _ = tr.gettext
    lines = ["🚫 *" + _("Nothing was sent.") + "* " + _("Fix this and submit again:")]
    if isinstance(problem, PolicyError):
        reason = escape(_(problem.message))
        return [*lines, f"• *{escape(_(rule_label(problem.rule)))}*: {reason}"]
    return lines + [
        f"• *{field_label(field, tr)}*: {escape(_(message))}"
        for field, message in problem.problems.items()
    ]


def _refilled(block: dict[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """An input block whose element starts with the value the person had entered."""
    block = copy.deepcopy(block)
    element = block.get("element")
    if block.get("type") != "input" or not isinstance(element, dict):
        return block
    entered = state.get(str(element.get("action_id"))) or {}
    kind = element.get("type")
    if kind == "plain_text_input":
        _set(element, "initial_value", entered.get("value") or None)
    elif kind == "multi_users_select":
        _set(element, "initial_users", entered.get("selected_users") or None)
    elif kind == "datetimepicker":
        _set(element, "initial_date_time", entered.get("selected_date_time"))
    elif kind == "conversations_select":
        _set(element, "initial_conversation", entered.get("selected_conversation"))
    elif kind == "radio_buttons":
        chosen = _options(element, [entered.get("selected_option")])
        _set(element, "initial_option", chosen[0] if chosen else None)
    elif kind == "checkboxes":
        checked = _options(element, entered.get("selected_options") or [])
        _set(element, "initial_options", checked or None)
    return block


def _options(element: Mapping[str, Any], picked: list[Any]) -> list[dict[str, Any]]:
    """The element's own options whose values were picked (Slack wants them equal)."""
    wanted = {option.get("value") for option in picked if isinstance(option, dict)}
    return [o for o in element.get("options") or [] if o.get("value") in wanted]


def _set(element: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        element.pop(key, None)
    else:
        element[key] = value
