"""Reading a page's SMS reply: ``ACK 12``, ``RES 12``, ``ESC 12``, with or without
the page number (``#12`` too). The words of ``SMS_ACK_WORDS`` stay acknowledgements.

Narrow on purpose: the command must be the reply's first word and the number, when
given, the next one; ``"resolve the DB"`` is an answer, not a command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ACK, RESOLVE, ESCALATE = "ack", "resolve", "escalate"
_VERBS = {"ack": ACK, "res": RESOLVE, "esc": ESCALATE}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"^#?(\d{1,9})$")


@dataclass(frozen=True)
class ReplyCommand:
    verb: str
    #: The page number written after the word; None when the reply has none.
    page_id: int | None


def read_command(text: str, ack_words: Iterable[str]) -> ReplyCommand | None:
    """The command in a reply, or None when the reply is no command."""
    parts = text.strip().split()
    if not parts:
        return None
    first = _WORD.findall(parts[0])
    if len(first) != 1:
        return None
    word = first[0].casefold()
    verb = _VERBS.get(word)
    if verb is None and word in {w.casefold() for w in ack_words}:
        verb = ACK
    if verb is None:
        return None
    if len(parts) > 1:
        found = _NUMBER.match(parts[1].strip(".,;:!"))
        if found:
            return ReplyCommand(verb, int(found[1]))
    return ReplyCommand(verb, None)
