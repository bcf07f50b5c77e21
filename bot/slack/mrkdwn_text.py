"""Slack message text as a person reads it, to send as an SMS ("Send as SMS").

A Slack message's ``text`` is markup: ``<@U0BOB>`` for a mention, ``<#C1|ops>`` for a
channel, ``<https://x|label>`` for a link, ``*bold*``, ``_it_``, ``~strike~``, backticks,
``:fire:`` for an emoji, and ``&lt; &gt; &amp;`` for the three characters Slack escapes.
An SMS shows none of it, so each becomes what the reader of the message saw: ``@bob``,
``#ops``, ``label (https://x)``, the words without their markers, 🔥.

An emoji is one character outside GSM-7, and one such character switches the whole SMS to
Unicode: 70 characters per SMS instead of 160. When keeping the emoji would cost more SMS
than leaving them out, they are left out, and :class:`SmsText` says which and what
keeping them would cost, for the form to tell the sender. Pure: names come from the
resolvers given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import emoji

from bot.sending.segments import analyse

#: A Slack id (``U0BOB``, ``C0OPS``) to the name people know it by, or ``None``.
NameOf = Callable[[str], str | None]

_ENTITY = re.compile(r"<([^<>\n]*)>")
_FENCE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
#: ``*bold*``, ``_it_``, ``~strike~``: a marker after a non-word character (or the
#: start), then text that neither starts nor ends with a space, then the same marker
#: before a non-word character (or the end). ``snake_case`` and ``2*3*4`` stay as they are.
_EMPHASIS = [
    re.compile(
        rf"(?<![\w{m}]){re.escape(m)}(?=\S)([^{m}\n]*?\S){re.escape(m)}(?![\w{m}])"
    )
    for m in "*_~"
]
_SHORTCODE = re.compile(r":([a-z0-9_+'\-]+):(?::(skin-tone-[2-6]):)?")
_QUOTE = re.compile(r"^&gt; ?", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[•◦▪] ", re.MULTILINE)
#: Private-use characters stand for what must not be touched while markers are removed.
_HOLD_BASE = 0xF0000
_HELD = re.compile("[\U000f0000-\U000fffff]")
_SKIN_TONES = {f"skin-tone-{n}": chr(0x1F3FB + n - 2) for n in range(2, 7)}


@dataclass(frozen=True)
class SmsText:
    """The SMS text, and the emoji left out of it because they would cost more SMS."""

    text: str
    #: The emoji left out, in order of first appearance.
    left_out: tuple[str, ...] = ()
    #: SMS per recipient with them kept; 0 when none was left out.
    parts_with_emoji: int = 0

    @property
    def parts(self) -> int:
        """SMS per recipient of :attr:`text`."""
        return analyse(self.text).parts


def slack_to_sms(
    text: str,
    *,
    user_name: NameOf = lambda _id: None,
    channel_name: NameOf = lambda _id: None,
) -> SmsText:
    """``text`` (Slack's markup) as plain SMS text; see the module docstring."""
    held: list[str] = []

    def hold(value: str, *, typed: bool = False) -> str:
        """Set ``value`` aside while markers are removed; a placeholder stands for it.

        What it holds is final text: placeholders inside ``value`` are put back first
        (a ``typed`` private-use character is no placeholder: it is kept as it is).
        """
        if not typed:
            value = _HELD.sub(lambda m: held[ord(m.group(0)) - _HOLD_BASE], value)
        held.append(value)
        return chr(_HOLD_BASE + len(held) - 1)

    body = _HELD.sub(lambda m: hold(m.group(0), typed=True), text)
    body = _ENTITY.sub(
        lambda m: hold(_entity(m.group(1), user_name, channel_name)), body
    )
    body = _FENCE.sub(lambda m: hold(m.group(1)), body)
    body = _CODE.sub(lambda m: hold(m.group(1)), body)
    body = _QUOTE.sub("", body)
    for pattern in _EMPHASIS:
        previous = None
        while previous != body:  # nested markers: *_both_*
            previous, body = body, pattern.sub(r"\1", body)
    body = _BULLET.sub(r"\1- ", body)
    found: dict[str, str] = {}  # placeholder -> emoji

    def to_emoji(match: re.Match[str]) -> str:
        glyph = emoji.emojize(f":{match.group(1)}:", language="alias")
        if glyph == f":{match.group(1)}:":
            return match.group(0)  # a custom emoji: its name is all there is
        glyph += _SKIN_TONES.get(match.group(2) or "", "")
        mark = hold(glyph)
        found[mark] = glyph
        return mark

    body = _SHORTCODE.sub(to_emoji, body)

    def release(source: str, *, drop: bool) -> str:
        def one(match: re.Match[str]) -> str:
            char = match.group(0)
            return "" if drop and char in found else held[ord(char) - _HOLD_BASE]

        return _unescape(_HELD.sub(one, source))

    with_emoji = release(body, drop=False)
    if not found:
        return SmsText(with_emoji)
    plain = release(_tidy_drops(body, set(found)), drop=True)
    kept, left = analyse(with_emoji), analyse(plain)
    if kept.parts > left.parts:
        return SmsText(plain, tuple(dict.fromkeys(found.values())), kept.parts)
    return SmsText(with_emoji)


def _unescape(text: str) -> str:
    """Slack escapes exactly these three; ``&amp;`` last, so ``&amp;lt;`` stays ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _tidy_drops(body: str, marks: set[str]) -> str:
    """Remove one space beside each emoji that is left out, so no gap of two remains."""
    mark = f"[{re.escape(''.join(sorted(marks)))}]"
    return re.sub(
        rf" ({mark}+)(?= |$|[.,;:!?])|^({mark}+) ", r"\1\2", body, flags=re.MULTILINE
    )


def _entity(inner: str, user_name: NameOf, channel_name: NameOf) -> str:
    """One ``<…>`` of Slack's markup as the reader saw it."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = label or user_name(target[1:]) or target[1:]
        return "@" + name.lstrip("@")
    if target.startswith("#"):
        name = label or channel_name(target[1:]) or target[1:]
        return "#" + name.lstrip("#")
    if target.startswith("!date^"):
        return label  # the date as Slack's fallback writes it
    if target.startswith("!"):
        if label:
            return label if label.startswith("@") else f"@{label}"
        return "@" + target[1:].split("^")[0]
    if target.startswith("mailto:"):
        return _labelled(label, target.removeprefix("mailto:"))
    if target.lower().startswith("tel:"):
        return label or target[4:]
    return _labelled(label, target)


def _labelled(label: str, target: str) -> str:
    """``label (target)``, or just ``target`` when the label says nothing more."""
    bare = re.sub(r"^[a-z]+://", "", target, flags=re.IGNORECASE).rstrip("/")
    if not label or label in (target, bare) or label.rstrip("/") == bare:
        return target
    return f"{label} ({target})"
