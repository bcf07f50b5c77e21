"""English left in what a French reader sees: the words French never uses.

Every catalog entry can be complete and a French reader still read English: a text
that was never marked for translation has no entry at all. So the check looks at the
answer itself. It collects the texts Slack shows (``text`` fields of posts, blocks and
views, modal field errors), drops what is not wording (Slack tokens such as
``<@U1>``, ``code spans``, URLs, setting names) and reports every English function
word left, with its neighbours, so a failure says where the English is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: Words common in English sentences that French never uses (not "a", "on", "page",
#: "message", which are French words too).
ENGLISH = frozenset(
    """
    the is are was were has have had not you your this that with and of for from
    been which could cannot would will should please must there their they it its
    what when who whom nothing sent send sending number numbers recipient recipients
    reply replied paged nobody anyone every each than then into hour hours day days
    week weeks
    """.split()
)
_NOT_WORDING = re.compile(
    r"<[^>]*>"  # Slack tokens: <@U1>, <#C1>, <!here>, <!date^…|…>, <url|label>
    r"|`[^`]*`"  # code spans: commands, setting values
    r"|https?://\S+"
    r"|\b[A-Z][A-Z0-9_]{2,}\b"  # setting names, Octopush codes, SMS
)
_WORD = re.compile(r"[A-Za-z']+")


def shown_texts(payload: Any) -> Iterator[str]:
    """Every text a person reads in a Slack payload (message, blocks, view, errors)."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if isinstance(value, str) and key in ("text", "fallback", "placeholder"):
                yield value
            elif key == "errors" and isinstance(value, dict):
                yield from (text for text in value.values() if isinstance(text, str))
            else:
                yield from shown_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from shown_texts(item)


def english_words(payload: Any, *, typed: tuple[str, ...] = ()) -> list[str]:
    """Each English word left in ``payload``'s texts, as ``word in «context»``.

    ``typed`` are texts the person typed themselves (an SMS text, a name): shown as
    they are, never translated, so they are left out.
    """
    found = []
    for text in shown_texts(payload):
        for own in typed:
            text = re.sub(rf"(?<![\w+]){re.escape(own)}(?!\w)", " ", text)
        wording = _NOT_WORDING.sub(" ", text)
        for match in _WORD.finditer(wording):
            if match.group().lower() in ENGLISH:
                start = max(match.start() - 30, 0)
                context = wording[start : match.end() + 30].strip()
                found.append(f"{match.group()!r} in «{context}»")
    return found
