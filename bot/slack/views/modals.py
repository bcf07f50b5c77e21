"""The send form: building it, keeping its SMS preview live, and the confirm view.

Pure functions only; the handlers that open, update and submit the view call these.
Every id comes from :mod:`bot.slack.ids`, so the builder, the reader and the inline
errors cannot drift apart. Reading a submission back lives in
:mod:`bot.slack.modal_reader`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.domain import MAX_TEXT_LENGTH, Purpose, SmsType
from bot.i18n import N_, Translator, translator
from bot.sending.policy import rule_label
from bot.sending.segments import analyse
from bot.slack import ids
from bot.slack.views.blocks import (
    context,
    escape,
    input_block,
    option,
    plain,
    radio_buttons,
    section,
)

#: The message field's limit (Octopush's; one definition in :mod:`bot.domain`).
TEXT_MAX_LENGTH = MAX_TEXT_LENGTH
#: ``private_metadata`` limit; longer payloads must be stored elsewhere by the caller.
METADATA_MAX = 3000

_NAMED_CHARS = 5
#: Keys ``views.update`` accepts; the rest (id, hash, state…) are Slack's own.
VIEW_UPDATE_KEYS = tuple(
    """type title submit close callback_id private_metadata clear_on_close
notify_on_close external_id submit_disabled""".split()
)
_TYPE_OPTIONS: dict[str, tuple[str, str]] = {
    SmsType.PREMIUM: (N_("Premium"), N_("Fast, with delivery receipts")),
    SmsType.LOW_COST: (N_("Low cost"), N_("Cheaper; may arrive hours later")),
}
_PURPOSE_OPTIONS: dict[str, tuple[str, str]] = {
    Purpose.ALERT: (N_("Alert"), N_("Transactional: allowed at any time")),
    Purpose.WHOLESALE: (N_("Marketing"), N_("Needs “STOP au 30101” in the text")),
}
_CHECKBOX_OPTIONS = {
    ids.OPTION_REPLIES: (
        N_("Collect replies"),
        N_("France only: answers come back to the bot"),
    ),
    ids.OPTION_SIMULATION: (N_("Simulation"), N_("Nothing is sent, nothing is billed")),
}


def _translated(
    options: Mapping[str, tuple[str, str]], tr: Translator
) -> dict[str, tuple[str, str]]:
    return {
        value: (tr.gettext(text), tr.gettext(description))
        for value, (text, description) in options.items()
    }


@dataclass(frozen=True)
class ModalContext:
    """Where the form was opened, carried in ``private_metadata`` to the submission."""

    channel_id: str | None = None
    response_url: str | None = None
    user_id: str | None = None

    def to_metadata(self) -> str:
        """Compact JSON without unknown values, far below the 3000-character limit."""
        data = {key: value for key, value in asdict(self).items() if value}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, metadata: str | None) -> ModalContext:
        """Read :meth:`to_metadata` output; anything unreadable gives all None."""
        try:
            data = json.loads(metadata or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(
            channel_id=_given(data.get("channel_id")),
            response_url=_given(data.get("response_url")),
            user_id=_given(data.get("user_id")),
        )


def build_sms_modal(
    *,
    context: ModalContext,
    initial_text: str = "",
    initial_recipients: str = "",
    default_sender: str | None,
    default_type: SmsType,
    default_purpose: Purpose,
    region: str,
    tr: Translator | None = None,
) -> dict[str, Any]:
    """The send form with the workspace defaults filled in (``views.open`` payload).

    ``tr`` is the reader's translator: a modal is read by the person who opened it.
    """
    tr = tr or translator()
    _ = tr.gettext
    text_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.TEXT_INPUT,
        "multiline": True,
        "max_length": TEXT_MAX_LENGTH,
        "placeholder": plain(_("Server db-1 is down"), 150),
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    if initial_text:
        text_input["initial_value"] = initial_text[:TEXT_MAX_LENGTH]
    sender_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.SENDER_INPUT,
    }
    if default_sender:
        sender_input["initial_value"] = default_sender
    channel_select: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ids.CHANNEL_SELECT,
        "default_to_current_conversation": True,
        "response_url_enabled": True,
        "placeholder": plain(_("Channel for the result"), 150),
    }
    if context.channel_id:
        channel_select["initial_conversation"] = context.channel_id
    recipients_input: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.RECIPIENTS_INPUT,
        "placeholder": plain("+33612345678, 06 12 34 56 78, alice, db-oncall", 150),
    }
    if initial_recipients:
        recipients_input["initial_value"] = initial_recipients
    region = region.strip().upper()
    blocks: list[dict[str, Any]] = [
        input_block(
            ids.RECIPIENTS_BLOCK,
            _("Recipients"),
            recipients_input,
            hint=_(
                "Phone numbers (national numbers are read as %(region)s), directory "
                "names or groups, separated by commas",
                region=region,
            ),
            optional=True,
        ),
        input_block(
            ids.PEOPLE_BLOCK,
            _("Slack people (their profile phone)"),
            {"type": "multi_users_select", "action_id": ids.PEOPLE_SELECT},
            optional=True,
        ),
        {
            **input_block(ids.TEXT_BLOCK, _("Message"), text_input),
            "dispatch_action": True,
        },
        build_preview_block(initial_text, tr),
        input_block(
            ids.SENDER_BLOCK,
            _("Sender"),
            sender_input,
            hint=_("3-11 letters, digits or spaces; empty for the account default"),
            optional=True,
        ),
        input_block(
            ids.TYPE_BLOCK,
            _("SMS type"),
            radio_buttons(
                ids.TYPE_SELECT, _translated(_TYPE_OPTIONS, tr), default_type
            ),
        ),
        input_block(
            ids.PURPOSE_BLOCK,
            _("Purpose"),
            radio_buttons(
                ids.PURPOSE_SELECT, _translated(_PURPOSE_OPTIONS, tr), default_purpose
            ),
        ),
        input_block(
            ids.SEND_AT_BLOCK,
            _("Send at"),
            {"type": "datetimepicker", "action_id": ids.SEND_AT_PICKER},
            hint=_("Leave empty to send now"),
            optional=True,
        ),
        input_block(
            ids.OPTIONS_BLOCK,
            _("Options"),
            {
                "type": "checkboxes",
                "action_id": ids.OPTIONS_CHECKBOXES,
                "options": [
                    option(v, *labels)
                    for v, labels in _translated(_CHECKBOX_OPTIONS, tr).items()
                ],
            },
            optional=True,
        ),
        input_block(ids.CHANNEL_BLOCK, _("Post the result in"), channel_select),
    ]
    return {
        "type": "modal",
        "callback_id": ids.SMS_MODAL,
        "title": plain(_("Send an SMS"), 24),
        "submit": plain(_("Send"), 24),
        "close": plain(_("Cancel"), 24),
        "notify_on_close": False,
        "private_metadata": context.to_metadata(),
        "blocks": blocks,
    }


def build_preview_block(text: str, tr: Translator | None = None) -> dict[str, Any]:
    """The line under the message: encoding, why Unicode, length, SMS per recipient."""
    tr = tr or translator()
    info = analyse(text)
    if info.parts == 0:
        line = tr.gettext("Type a message to see its length and SMS count")
    else:
        count = tr.ngettext(
            "%(n)s character · %(parts)s SMS per recipient",
            "%(n)s characters · %(parts)s SMS per recipient",
            info.units,
            parts=tr.number(info.parts),
        )
        if info.unicode_chars:
            named = ", ".join(_show(char) for char in info.unicode_chars[:_NAMED_CHARS])
            more = len(info.unicode_chars) - _NAMED_CHARS
            if more > 0:
                named = tr.ngettext(
                    "%(head)s and %(n)s more",
                    "%(head)s and %(n)s more",
                    more,
                    head=named,
                )
            line = tr.gettext(
                "Unicode because of %(chars)s · %(count)s", chars=named, count=count
            )
        else:
            line = f"GSM-7 · {count}"
    block = context(f"📏 {line}")
    block["block_id"] = ids.PREVIEW_BLOCK
    return block


def update_preview(
    view: Mapping[str, Any], text: str, tr: Translator | None = None
) -> dict[str, Any]:
    """The ``views.update`` payload for ``view`` with only the preview line changed.

    Block and action ids are kept, so Slack keeps what the person has typed so far.
    """
    updated = {key: copy.deepcopy(view[key]) for key in VIEW_UPDATE_KEYS if key in view}
    preview = build_preview_block(text, tr)
    blocks = [block for block in view.get("blocks") or [] if isinstance(block, dict)]
    new_blocks = [
        preview if block.get("block_id") == ids.PREVIEW_BLOCK else copy.deepcopy(block)
        for block in blocks
    ]
    if preview not in new_blocks:
        after = next(
            (
                i + 1
                for i, b in enumerate(new_blocks)
                if b.get("block_id") == ids.TEXT_BLOCK
            ),
            len(new_blocks),
        )
        new_blocks.insert(after, preview)
    updated["blocks"] = new_blocks
    return updated


def build_confirm_modal(
    *,
    draft_metadata: str,
    summary: str,
    estimate: str,
    tr: Translator | None = None,
) -> dict[str, Any]:
    """What the form becomes when a send is large: the estimate, then Send.

    ``summary`` and ``estimate`` are mrkdwn written by the caller (masked numbers only).
    The draft rides in ``private_metadata``; the caller stores it elsewhere when longer
    than :data:`METADATA_MAX`.
    """
    _ = (tr or translator()).gettext
    return {
        "type": "modal",
        "callback_id": ids.CONFIRM_MODAL,
        "title": plain(_("Confirm the send"), 24),
        "submit": plain(_("Send"), 24),
        "close": plain(_("Cancel"), 24),
        "notify_on_close": False,
        "private_metadata": draft_metadata,
        "blocks": [
            section("💸 *" + _("This send is large.") + "*\n" + summary),
            section("*" + _("Estimate:") + "* " + estimate),
            context(
                _("Nothing is sent until you press *Send*; *Cancel* sends nothing.")
            ),
        ],
    }


def _show(char: str) -> str:
    """A forcing character in quotes, or its code point when it would be invisible."""
    if char.isprintable() and not char.isspace():
        return f"“{escape(char)}”"
    return f"U+{ord(char):04X}"


def _given(value: object) -> str | None:
    """A metadata field that is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def build_refusal_modal(
    reason: str, rule: str, tr: Translator | None = None
) -> dict[str, Any]:
    """What opens instead of the form for someone the admin's rules do not let send.

    Said when the form is asked for, not after it was filled in; ``reason`` is the
    refusal's own message (translated here), ``rule`` its setting, shown in plain words.
    """
    tr = tr or translator()
    _ = tr.gettext
    return {
        "type": "modal",
        "title": plain(_("Send an SMS"), 24),
        "close": plain(_("Close"), 24),
        "blocks": [
            section("🚫 *" + _("You cannot send SMS.") + "*"),
            section(f"*{escape(_(rule_label(rule)))}*: {escape(_(reason))}"),
        ],
    }
