"""The ``/sms`` grammar: which sub-command, which leading tokens are recipients, the message.

Pure: the caller says which bare words are directory names (``is_name``); phone numbers,
Slack mentions, user groups and ``tel:`` links are recognised here. The message is cut
from the typed text, so its spacing, line breaks and punctuation stay exactly as typed.

An SMS cannot be taken back, so the split never guesses:

* a comma says "another recipient follows": what comes after it is a recipient, and one
  that is unknown is kept as a recipient so the rules refuse it, naming it;
* a line break (without a comma before it) ends the recipients;
* after a recipient, a run of digits that makes no valid number (a count, a date, an IP
  address, a ticket number) is the start of the message;
* after a recipient, a run that *does* make a valid number, with no comma before it, could
  be a recipient or the start of the message (``… 0800 123 456 is the hotline``): the
  command is ambiguous, and :attr:`SmsCommand.cautious` holds the other reading.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain import COMMAND_WORDS
from bot.i18n import N_
from bot.phones import MAX_DIGITS, is_digit_group, is_valid_phone
from bot.slack.oncall_grammar import OncallRequest, parse_oncall

#: Sub-commands (the same set the directory refuses as names).
KEYWORDS = COMMAND_WORDS

#: A Slack ``<…>`` wrapper (kept whole, spaces in its label included) or a plain word.
_TOKEN = re.compile(r"<[^<>]*>|[^\s,]+")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_SUBTEAM = re.compile(r"^<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>$")
_TEL_LINK = re.compile(r"^<tel:([^|>]+)(?:\|[^>]*)?>$", re.IGNORECASE)
_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
#: Dates and IPv4 addresses are message text, never digit groups of a number.
_DATE = re.compile(
    r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{4}/\d{1,2}/\d{1,2})$"
)
_IPV4 = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$")
#: A number typed with spaces has at most this many groups (``+33 6 12 34 56 78``).
_MAX_GROUPS = 6
PAGE_USAGE = N_("Usage: `/sms page WHO MESSAGE`, e.g. `/sms page db-oncall DB down`")


@dataclass(frozen=True)
class Reading:
    """One way of splitting a command: who receives it, and the message."""

    recipients: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class SmsCommand:
    """What ``/sms …`` asks for.

    For ``send``, ``recipients``/``text`` are the reading that takes every number-like run
    before the message as a recipient; when one of those could also start the message,
    ``cautious`` is the reading with only the recipients that cannot be message text.
    For ``page``, ``recipients`` are the WHO tokens. For ``oncall``, ``oncall`` holds the
    parsed sub-command (show, set, clear) and ``argument`` the raw rest.
    """

    action: str
    recipients: tuple[str, ...] = ()
    text: str = ""
    argument: str = ""
    problems: tuple[str, ...] = field(default=())
    cautious: Reading | None = None
    oncall: OncallRequest | None = None

    @property
    def ambiguous(self) -> bool:
        return self.cautious is not None

    @property
    def unsure(self) -> tuple[str, ...]:
        """The recipients that could also be the start of the message."""
        if self.cautious is None:
            return ()
        return self.recipients[len(self.cautious.recipients) :]


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def is_mention(token: str) -> bool:
    return bool(_MENTION.match(token))


def mention_user_id(token: str) -> str | None:
    match = _MENTION.match(token)
    return match.group(1) if match else None


def subteam_id(token: str) -> str | None:
    match = _SUBTEAM.match(token)
    return match.group(1) if match else None


def tel_number(token: str) -> str | None:
    """The number of a Slack ``tel:`` link (``<tel:+33612345678|+33 6 12 34 56 78>``)."""
    match = _TEL_LINK.match(token)
    return match.group(1).strip() if match else None


def unescape_slack(text: str) -> str:
    """Turn Slack's escaped text back into what the person typed.

    ``<https://x|label>`` → ``https://x``, ``<@U1|alice>`` → ``@alice``, ``<#C1|ops>`` →
    ``#ops``, ``<!here>`` → ``@here``, ``<tel:+336…|06 …>`` → ``06 …``, then
    ``&amp; &lt; &gt;`` → ``& < >``.
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
        if target.lower().startswith("tel:"):
            return label or target[4:]
        return target

    return html.unescape(_SLACK_MARKUP.sub(plain, text))


def parse_sms_command(
    text: str, *, region: str, is_name: Callable[[str], bool] = lambda _: False
) -> SmsCommand:
    """Split ``/sms`` text into a sub-command, recipient tokens and the message."""
    stripped = text.strip()
    tokens = _tokens(stripped)
    if not tokens:
        return SmsCommand("form")
    first = tokens[0].text.lower()
    if first in KEYWORDS:
        return _keyword(first, stripped, tokens)
    greedy, cautious = _split(stripped, tokens, region, is_name)
    return SmsCommand(
        "send", recipients=greedy.recipients, text=greedy.text, cautious=cautious
    )


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _keyword(action: str, stripped: str, tokens: list[_Token]) -> SmsCommand:
    rest = stripped[tokens[1].start :] if len(tokens) > 1 else ""
    if action == "history":
        if not rest:
            return SmsCommand("history", argument="10")
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if rest.isascii() and rest.isdecimal() and 1 <= int(rest) <= 100:
            return SmsCommand("history", argument=rest)
        return SmsCommand(
            "history",
            problems=(
                N_(
                    "`/sms history` takes a number from 1 to 100, not %(typed)r",
                    typed=rest,
                ),
            ),
        )
    if action == "page":
        return _page(stripped, tokens[1:])
    if action == "oncall":
        request, problems = parse_oncall(rest)
        return SmsCommand(
            "oncall", argument=rest.strip(), oncall=request, problems=problems
        )
    return SmsCommand(action, argument=rest.strip())


def _page(stripped: str, tokens: list[_Token]) -> SmsCommand:
    """``page WHO[, WHO…] MESSAGE``: the first token, and each one after a comma, is WHO."""
    if not tokens:
        return SmsCommand("page", problems=(PAGE_USAGE,))
    who = [tokens[0].text]
    index = 1
    while index < len(tokens) and "," in _gap(stripped, tokens, index):
        who.append(tokens[index].text)
        index += 1
    message = stripped[tokens[index].start :] if index < len(tokens) else ""
    if not message.strip():
        return SmsCommand("page", recipients=tuple(who), problems=(PAGE_USAGE,))
    return SmsCommand(
        "page", recipients=tuple(who), text=unescape_slack(message.strip())
    )


def _gap(stripped: str, tokens: list[_Token], index: int) -> str:
    """What separates token ``index`` from the one before it (spaces, commas, breaks)."""
    return stripped[tokens[index - 1].end : tokens[index].start]


def _is_group(token: str, *, first: bool) -> bool:
    """Could ``token`` be (part of) a typed number? Dates and IP addresses cannot."""
    if _DATE.match(token) or _IPV4.match(token):
        return False
    return is_digit_group(token, first=first)


def _split(
    stripped: str,
    tokens: list[_Token],
    region: str,
    is_name: Callable[[str], bool],
) -> tuple[Reading, Reading | None]:
    """The reading that takes every possible recipient, and the cautious one if it differs."""
    recipients: list[str] = []
    cautious: Reading | None = None
    index = 0

    def message_from(position: int) -> str:
        if position >= len(tokens):
            return ""
        return unescape_slack(stripped[tokens[position].start :])

    while index < len(tokens):
        token = tokens[index].text
        gap = _gap(stripped, tokens, index) if index else ","
        after_comma = "," in gap
        if not after_comma and "\n" in gap:
            break  # a line break ends the recipients
        if _MENTION.match(token) or _SUBTEAM.match(token) or is_name(token):
            recipients.append(token)
            index += 1
            continue
        number, end = _number_at(stripped, tokens, index, region)
        if number is not None:
            if recipients and not after_comma and cautious is None:
                cautious = Reading(tuple(recipients), message_from(index))
            recipients.append(number)
            index = end
            continue
        if not after_comma:
            break  # after a recipient, anything else starts the message
        # First token, or right after a comma: a recipient is expected, so an unknown
        # one is kept as a recipient for the rules to refuse, naming it as typed.
        end = _group_run(stripped, tokens, index)
        recipients.append(" ".join(t.text for t in tokens[index:end]))
        index = end
    return Reading(tuple(recipients), message_from(index)), cautious


def _number_at(
    stripped: str, tokens: list[_Token], start: int, region: str
) -> tuple[str | None, int]:
    """The valid number starting at token ``start`` (longest run of groups), and its end."""
    link = tel_number(tokens[start].text)
    if link is not None:
        return (link, start + 1) if is_valid_phone(link, region) else (None, start)
    if not _is_group(tokens[start].text, first=True):
        return None, start
    end = _group_run(stripped, tokens, start)
    digits = 0
    for stop in range(start + 1, end + 1):
        digits += sum(c.isdigit() for c in tokens[stop - 1].text)
        if digits > MAX_DIGITS:
            end = stop - 1
            break
    for stop in range(end, start, -1):
        candidate = " ".join(t.text for t in tokens[start:stop])
        if is_valid_phone(candidate, region):
            return candidate, stop
    return None, start


def _group_run(stripped: str, tokens: list[_Token], start: int) -> int:
    """End of the run of digit groups from ``start``, separated only by spaces.

    At least one token long, so an unknown word is taken alone.
    """
    if not _is_group(tokens[start].text, first=True):
        return start + 1
    end = start + 1
    while (
        end < len(tokens)
        and end - start < _MAX_GROUPS
        and _gap(stripped, tokens, end).strip(" \t") == ""
        and _is_group(tokens[end].text, first=False)
    ):
        end += 1
    return end
