"""Small wording and Block Kit helpers shared by the message builders.

Everything a person typed goes through :func:`escape` before it lands in mrkdwn, so a
text cannot ping a channel with ``<!channel>``; every phone number goes through
:func:`bot.log.mask_number`, so channel posts never show a full number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.i18n import N_, Translator, translator
from bot.log import mask_number

#: Slack's limits: section text, field text, fields per section, blocks per message.
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_PER_SECTION = 10
BLOCKS_MAX = 50
#: Channel posts quote at most this much of the message text.
QUOTE_MAX = 300
#: How many masked recipients a post lists before "and N more".
RECIPIENTS_SHOWN = 10

#: What people call each :class:`bot.domain.SendDraft` field (English; see
#: :func:`field_label` for the reader's language).
FIELD_LABELS = {
    "recipients": N_("Recipients"),
    "text": N_("Message"),
    "sender": N_("Sender"),
    "sms_type": N_("SMS type"),
    "purpose": N_("Purpose"),
    "send_at": N_("Send time"),
    "with_replies": N_("Replies"),
    "simulation": N_("Simulation"),
    "override": N_("Override"),
}

# A run of digits that could be a phone number: optional +, at least 6 digits,
# separated by spaces, dots, dashes or brackets.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s.\-()/]?\d){5,}")


def escape(text: str) -> str:
    """Escape mrkdwn control characters: echoed text stays text (no mentions, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with "…"."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def scrub_numbers(text: str) -> str:
    """Mask anything that looks like a phone number, e.g. inside an Octopush error."""
    return _PHONE_LIKE.sub(lambda match: mask_number(match.group(0)), text)


def masked_list(
    numbers: Sequence[str],
    shown: int = RECIPIENTS_SHOWN,
    tr: Translator | None = None,
) -> str:
    """``+33 6 •• •• •• 78, +44 7••• ••• 999 and 3 more``: masked, never all."""
    return and_more(
        [mask_number(number) for number in numbers[:shown]], len(numbers), tr
    )


def named_list(
    numbers: Sequence[str],
    names: Mapping[str, str],
    shown: int = RECIPIENTS_SHOWN,
    tr: Translator | None = None,
) -> str:
    """:func:`masked_list` with a name before each number the sender named.

    ``Bob Durand (+33 6 •• •• •• 78), +44 7••• ••• 999``; names are escaped.
    """
    items = []
    for number in numbers[:shown]:
        name = names.get(number)
        masked = mask_number(number)
        items.append(f"{escape(name)} ({masked})" if name else masked)
    return and_more(items, len(numbers), tr)


def and_more(shown: Sequence[str], total: int, tr: Translator | None = None) -> str:
    """``a, b and 3 more``: the ``shown`` items of ``total``, the rest counted."""
    head = ", ".join(shown)
    more = total - len(shown)
    if more <= 0:
        return head
    return (tr or translator()).ngettext(
        "%(head)s and %(n)s more", "%(head)s and %(n)s more", more, head=head
    )


def field_label(field: str, tr: Translator | None = None) -> str:
    """What people call a draft field, in the reader's language."""
    label = FIELD_LABELS.get(field)
    if label is None:
        return field.replace("_", " ").capitalize()
    return (tr or translator()).gettext(label)


def slack_date(when: datetime) -> str:
    """A date each reader sees in their own time zone, with an ISO UTC fallback."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    fallback = aware.astimezone(UTC).isoformat(timespec="minutes")
    return f"<!date^{int(aware.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def quote(text: str, limit: int = QUOTE_MAX) -> str:
    """The message text as a mrkdwn block quote, shortened and escaped."""
    lines = escape(truncate(text, limit)).splitlines() or [""]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def amount(value: float) -> str:
    """A cost or credit without float noise: ``0.0333``, ``12.5``."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"


def person_mention(user_id: str, tr: Translator | None = None) -> str:
    """Who asked, as a mention; an unknown sender is said so rather than left blank."""
    if user_id:
        return f"<@{escape(user_id)}>"
    return (tr or translator()).gettext("someone (unknown)")


def recipients_label(
    count: int, *, count_first: bool = False, tr: Translator | None = None
) -> str:
    """``3 recipients`` (``count_first``) or the heading ``Recipients (3)``."""
    tr = tr or translator()
    if count_first:
        return tr.ngettext("%(n)s recipient", "%(n)s recipients", count)
    return tr.ngettext("Recipient", "Recipients (%(n)s)", count)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(truncate(text, SECTION_MAX))}


def fields_section(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A two-column section of ``*label*`` + value fields (Slack allows 10)."""
    fields = [
        mrkdwn(truncate(f"*{label}*\n{value}", FIELD_MAX))
        for label, value in list(pairs)[:FIELDS_PER_SECTION]
    ]
    return {"type": "section", "fields": fields}


def context(*texts: str) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [mrkdwn(truncate(text, SECTION_MAX)) for text in texts[:10]],
    }


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def message(text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``chat.postMessage``/``respond`` body: the plain fallback plus the blocks.

    The fallback is escaped too: Slack parses it for notifications.
    """
    return {"text": escape(truncate(text, SECTION_MAX)), "blocks": blocks[:BLOCKS_MAX]}


def chunk_lines(lines: Sequence[str], limit: int = SECTION_MAX) -> list[str]:
    """Join lines into texts of at most ``limit`` characters, one per section block."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = truncate(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def utc_iso(when: datetime) -> str:
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    hint: str | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    """An input block; Slack requires a value unless ``optional``."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def option(value: str, text: str, description: str) -> dict[str, Any]:
    return {
        "text": plain(text, 75),
        "value": value,
        "description": plain(description, 75),
    }


def radio_buttons(
    action_id: str, options: Mapping[str, tuple[str, str]], initial: str
) -> dict[str, Any]:
    """Radio buttons with ``initial`` pre-selected when it is one of the values."""
    built = [option(value, *labels) for value, labels in options.items()]
    element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": action_id,
        "options": built,
    }
    chosen = next((option for option in built if option["value"] == str(initial)), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element
