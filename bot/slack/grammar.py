"""The ``/sms`` grammar: which sub-command, which leading tokens are recipients, the message.

Pure: the caller says which bare words are directory names (``is_name``); phone numbers
and Slack mentions are recognised here. The message is cut from the typed text, so its
spacing, line breaks and punctuation stay exactly as typed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import phonenumbers

KEYWORDS = frozenset({"form", "help", "balance", "history", "page", "oncall"})

_TOKEN = re.compile(r"[^\s,]+")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_SUBTEAM = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_PHONEISH = re.compile(r"^(?:tel:)?\+?[\d().\-/]*\d[\d().\-/]*$")
_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
_MAX_GROUPS = 6
_MIN_DIGITS_ALONE = 6


@dataclass(frozen=True)
class SmsCommand:
    """What ``/sms …`` asks for."""

    action: str
    recipients: tuple[str, ...] = ()
    text: str = ""
    argument: str = ""
    problems: tuple[str, ...] = field(default=())


def is_mention(token: str) -> bool:
    return bool(_MENTION.match(token))


def mention_user_id(token: str) -> str | None:
    match = _MENTION.match(token)
    return match.group(1) if match else None


def subteam_id(token: str) -> str | None:
    match = _SUBTEAM.match(token)
    return match.group(1) if match else None


def unescape_slack(text: str) -> str:
    """Turn Slack's escaped text back into what the person typed.

    ``<https://x|label>`` → ``https://x``, ``<@U1|alice>`` → ``@alice``, ``<#C1|ops>`` →
    ``#ops``, ``<!here>`` → ``@here``, then ``&amp; &lt; &gt;`` → ``& < >``.
    """

    def plain(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return f"@{label}" if label else target
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            if label:
                return label if label.startswith("@") else f"@{label}"
            return "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return target

    return html.unescape(_SLACK_MARKUP.sub(plain, text))


def parse_sms_command(
    text: str, *, region: str, is_name: Callable[[str], bool] = lambda _: False
) -> SmsCommand:
    """Split ``/sms`` text into a sub-command, recipient tokens and the message."""
    stripped = text.strip()
    tokens = [(m.group(0), m.start()) for m in _TOKEN.finditer(stripped)]
    if not tokens:
        return SmsCommand("form")
    first = tokens[0][0].lower()
    if first in KEYWORDS:
        rest = stripped[tokens[1][1] :] if len(tokens) > 1 else ""
        return _keyword(first, rest)
    recipients, start = _leading_recipients(tokens, region, is_name)
    if not recipients:
        # Nothing looked like a recipient: treat the first word as one, so the rules name it.
        recipients, start = [tokens[0][0]], 1
    message = stripped[tokens[start][1] :] if start < len(tokens) else ""
    return SmsCommand(
        "send", recipients=tuple(recipients), text=unescape_slack(message)
    )


def _keyword(action: str, rest: str) -> SmsCommand:
    if action == "history":
        if not rest:
            return SmsCommand("history", argument="10")
        if rest.isdigit() and 1 <= int(rest) <= 100:
            return SmsCommand("history", argument=rest)
        return SmsCommand(
            "history",
            problems=(f"`/sms history` takes a number from 1 to 100, not {rest!r}",),
        )
    if action == "page":
        who, _, message = rest.partition(" ")
        if not who or not message.strip():
            return SmsCommand(
                "page",
                problems=(
                    "Usage: `/sms page WHO MESSAGE`, e.g. `/sms page db-oncall DB down`",
                ),
            )
        return SmsCommand(
            "page", recipients=(who.rstrip(","),), text=unescape_slack(message.strip())
        )
    return SmsCommand(action, argument=rest.strip())


def _leading_recipients(
    tokens: list[tuple[str, int]], region: str, is_name: Callable[[str], bool]
) -> tuple[list[str], int]:
    """The leading run of recipient tokens, and the index of the first message token.

    A number typed with spaces (``06 12 34 56 78``) spans several tokens: the longest run
    of phone-like tokens (up to six) that makes a valid number is one recipient. A lone
    phone-like token with fewer than six digits that makes no number starts the message,
    so ``/sms +33612345678 3 disks failed`` keeps ``3 disks failed`` as the text.
    """
    recipients: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index][0]
        if _MENTION.match(token) or _SUBTEAM.match(token) or is_name(token):
            recipients.append(token)
            index += 1
            continue
        if not _PHONEISH.match(token):
            break
        end = _longest_number(tokens, index, region)
        if end is not None:
            recipients.append(" ".join(t for t, _ in tokens[index:end]))
            index = end
        elif sum(char.isdigit() for char in token) >= _MIN_DIGITS_ALONE:
            recipients.append(
                token
            )  # looks like an attempt at a number: the rules will name it
            index += 1
        else:
            break
    return recipients, index


def _longest_number(
    tokens: list[tuple[str, int]], start: int, region: str
) -> int | None:
    limit = min(len(tokens), start + _MAX_GROUPS)
    for end in range(limit, start, -1):
        group = [t for t, _ in tokens[start:end]]
        if not all(_PHONEISH.match(t) for t in group):
            continue
        if _valid("".join(group), region):
            return end
    return None


def _valid(candidate: str, region: str) -> bool:
    try:
        number = phonenumbers.parse(candidate.removeprefix("tel:"), region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))
