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
* after the first recipient, a recipient with a space (no comma) before it could be the
  start of the message: a number (``… 0800 123 456 is the hotline``), a directory name
  (``alice DBA migration at 17:00``) or a mention (``@bob @carol asked me…``);
* a number typed in groups may end at more than one group where numbers vary in length
  (``+43 664 123456 3 disks failed``): each valid end is a reading.

When such a doubt is followed by a message on the same line, the command is ambiguous:
:attr:`SmsCommand.alternatives` holds the other readings, and nothing is sent unasked.
A line break before the message ends the recipients without doubt.
"""

from __future__ import annotations

import difflib
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
CANCEL_USAGE = N_(
    "Usage: `/sms cancel TICKET`, with the ticket shown on the scheduled send's post"
)
PAGE_USAGE = N_("Usage: `/sms page WHO MESSAGE`, e.g. `/sms page db-oncall DB down`")


@dataclass(frozen=True)
class Reading:
    """One way of splitting a command: who receives it, and the message."""

    recipients: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class SmsCommand:
    """What ``/sms …`` asks for.

    For ``send``, ``recipients``/``text`` are the reading that takes every possible
    recipient, each number as long as it can be; when the message could also start
    earlier on the same line, ``alternatives`` are the other readings, one per place it
    could start, the most cautious (the longest message) last. For ``help``,
    ``suggestion`` is the sub-command a misspelt first word was probably meant to be.
    For ``page``, ``recipients`` are the WHO tokens. For ``oncall``, ``oncall`` holds the
    parsed sub-command (show, set, clear) and ``argument`` the raw rest.
    """

    action: str
    recipients: tuple[str, ...] = ()
    text: str = ""
    argument: str = ""
    problems: tuple[str, ...] = field(default=())
    alternatives: tuple[Reading, ...] = ()
    oncall: OncallRequest | None = None
    suggestion: str | None = None

    @property
    def ambiguous(self) -> bool:
        return bool(self.alternatives)

    @property
    def readings(self) -> tuple[Reading, ...]:
        """Every reading, as typed (every possible recipient) first."""
        return (Reading(self.recipients, self.text), *self.alternatives)

    @property
    def cautious(self) -> Reading | None:
        """The reading with the longest message, when the command is ambiguous."""
        return self.alternatives[-1] if self.alternatives else None

    @property
    def unsure(self) -> tuple[str, ...]:
        """The recipients as typed from the first one some reading does not have."""
        if self.cautious is None:
            return ()
        same = 0
        for ours, theirs in zip(
            self.recipients, self.cautious.recipients, strict=False
        ):
            if ours != theirs:
                break
            same += 1
        return self.recipients[same:]


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
    suggestion = _misspelt_keyword(tokens[0].text, is_name)
    if suggestion is not None:
        return SmsCommand("help", suggestion=suggestion)
    greedy, alternatives = _split(stripped, tokens, region, is_name)
    return SmsCommand(
        "send",
        recipients=greedy.recipients,
        text=greedy.text,
        alternatives=alternatives,
    )


def _misspelt_keyword(word: str, is_name: Callable[[str], bool]) -> str | None:
    """The sub-command ``word`` is close to (``hlep`` → ``help``), unless it is a name.

    Only a plain word can be one: digits, mentions and links are recipients.
    """
    if not word.isalpha() or is_name(word):
        return None
    close = difflib.get_close_matches(word.lower(), sorted(KEYWORDS), n=1, cutoff=0.75)
    return close[0] if close else None


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
    if action == "cancel":
        if not rest.strip() or len(rest.split()) > 1:
            return SmsCommand("cancel", problems=(CANCEL_USAGE,))
        return SmsCommand("cancel", argument=rest.strip())
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
    """Could ``token`` be (part of) a typed number? Dates and IP addresses start none.

    Inside a number they can be groups: New Caledonia writes ``+687 75.12.34``.
    """
    if first and (_DATE.match(token) or _IPV4.match(token)):
        return False
    return is_digit_group(token, first=first)


def _split(
    stripped: str,
    tokens: list[_Token],
    region: str,
    is_name: Callable[[str], bool],
) -> tuple[Reading, tuple[Reading, ...]]:
    """The reading as typed, and the others: one per place the message could start.

    The message can start after any recipient followed by a space: not after a comma (a
    recipient follows) and nowhere after a line break (the message starts there). The
    latest start is the reading as typed; the others count only when it is on the line
    of the last recipient and has a message. Each start keeps its first way of reading
    the recipients before it, which takes each number as long as it can be.
    """
    before: dict[int, tuple[str, ...]] = {0: ()}
    starts: list[int] = []
    for index in range(len(tokens) + 1):
        if index not in before:
            continue
        gap = _gap(stripped, tokens, index) if 0 < index < len(tokens) else ","
        if index == len(tokens) or "," not in gap:
            starts.append(index)
            if index == len(tokens) or "\n" in gap:
                continue  # a line break ends the recipients
        for recipient, end in _recipients_at(
            stripped, tokens, index, region, is_name, expected="," in gap
        ):
            before.setdefault(end, (*before[index], recipient))

    def reading(start: int) -> Reading:
        text = (
            unescape_slack(stripped[tokens[start].start :])
            if start < len(tokens)
            else ""
        )
        return Reading(before[start], text)

    latest = starts[-1]
    greedy = reading(latest)
    if not greedy.text or "\n" in _gap(stripped, tokens, latest):
        return greedy, ()
    return greedy, tuple(reading(start) for start in reversed(starts[:-1]))


def _recipients_at(
    stripped: str,
    tokens: list[_Token],
    index: int,
    region: str,
    is_name: Callable[[str], bool],
    *,
    expected: bool,
) -> list[tuple[str, int]]:
    """Each recipient token ``index`` can start, with where it ends: the longest first.

    Where a recipient is ``expected`` (first, or after a comma), a word that is none is
    kept as one, so the rules refuse it, naming it as typed.
    """
    token = tokens[index].text
    if _MENTION.match(token) or _SUBTEAM.match(token) or is_name(token):
        return [(token, index + 1)]
    numbers = _numbers_at(stripped, tokens, index, region)
    if numbers or not expected:
        return numbers
    end = _group_run(stripped, tokens, index)
    return [(" ".join(t.text for t in tokens[index:end]), end)]


def _numbers_at(
    stripped: str, tokens: list[_Token], start: int, region: str
) -> list[tuple[str, int]]:
    """Each valid number starting at token ``start``, with its end: the longest first.

    Where numbers vary in length (Austria, Germany, Italy…), a number typed in groups
    can be valid with and without the group that follows it.
    """
    link = tel_number(tokens[start].text)
    if link is not None:
        return [(link, start + 1)] if is_valid_phone(link, region) else []
    if not _is_group(tokens[start].text, first=True):
        return []
    end = _group_run(stripped, tokens, start)
    digits = 0
    for stop in range(start + 1, end + 1):
        digits += sum(c.isdigit() for c in tokens[stop - 1].text)
        if digits > MAX_DIGITS:
            end = stop - 1
            break
    found = []
    for stop in range(end, start, -1):
        candidate = " ".join(t.text for t in tokens[start:stop])
        if is_valid_phone(candidate, region):
            found.append((candidate, stop))
    return found


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
