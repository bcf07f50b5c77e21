"""The form's line about emoji left out of a message sent with "Send as SMS".

:func:`~bot.slack.mrkdwn_text.slack_to_sms` leaves emoji out when they alone would
cost more SMS (they make the text Unicode); the sender is told which, and what keeping
them would cost, right under the SMS count, so nothing changes without them knowing.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Translator, translator
from bot.slack import ids
from bot.slack.mrkdwn_text import SmsText
from bot.slack.views.blocks import context

#: The note's block id: kept by :func:`~bot.slack.views.modals.update_preview`.
EMOJI_NOTE_BLOCK = "sms_emoji_note"


def emoji_note_block(
    sms: SmsText, tr: Translator | None = None
) -> dict[str, Any] | None:
    """``Emoji left out: 🔥. They would make the SMS Unicode: 2 SMS instead of 1 …``."""
    if not sms.left_out:
        return None
    tr = tr or translator()
    text = tr.ngettext(
        "Emoji left out: %(emoji)s. It would make the SMS Unicode "
        "(%(with_emoji)s SMS instead of %(without)s per recipient); "
        "type it back into the message to keep it.",
        "Emoji left out: %(emoji)s. They would make the SMS Unicode "
        "(%(with_emoji)s SMS instead of %(without)s per recipient); "
        "type them back into the message to keep them.",
        len(sms.left_out),
        emoji=" ".join(sms.left_out),
        with_emoji=tr.number(sms.parts_with_emoji),
        without=tr.number(sms.parts),
    )
    block = context(f"ℹ️ {text}")
    block["block_id"] = EMOJI_NOTE_BLOCK
    return block


def with_note_after_preview(
    view: dict[str, Any], note: dict[str, Any] | None
) -> dict[str, Any]:
    """``view`` with ``note`` right under the SMS count line (``None``: unchanged)."""
    if note is None:
        return view
    blocks = list(view.get("blocks") or [])
    at = next(
        (i + 1 for i, b in enumerate(blocks) if b.get("block_id") == ids.PREVIEW_BLOCK),
        len(blocks),
    )
    return {**view, "blocks": [*blocks[:at], note, *blocks[at:]]}
