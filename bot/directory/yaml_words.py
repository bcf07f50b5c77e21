"""PyYAML's words for a syntax error, marked so a reader gets them in their language.

PyYAML says what stopped it in English ("mapping values are not allowed here",
"while parsing a flow mapping"). The phrases a hand-edited directory file runs into
are listed here with ``N_``; a phrase not listed is kept as PyYAML wrote it. What
PyYAML quotes from the file (``'<scalar>'``, ``'\\t'``) stays as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.i18n import N_

#: PyYAML phrases without a quoted part, each one marked.
PHRASES: dict[str, str] = {
    text: text
    for text in (
        N_("mapping values are not allowed here"),
        N_("mapping keys are not allowed here"),
        N_("could not find expected ':'"),
        N_("found unexpected end of stream"),
        N_("found unexpected document separator"),
        N_("found duplicate key"),
        N_("expected a single document in the stream"),
        N_("while scanning a simple key"),
        N_("while scanning a quoted scalar"),
        N_("while scanning a double-quoted scalar"),
        N_("while scanning a block scalar"),
        N_("while scanning for the next token"),
        N_("while scanning an alias"),
        N_("while scanning an anchor"),
        N_("while parsing a block mapping"),
        N_("while parsing a block collection"),
        N_("while parsing a flow mapping"),
        N_("while parsing a flow sequence"),
        N_("while parsing a node"),
        N_("while composing a mapping"),
    )
}

#: Phrases with something PyYAML quotes (``found``) in them.
_QUOTING: tuple[tuple[re.Pattern[str], Callable[[str], str]], ...] = (
    (
        re.compile(r"found character (.+) that cannot start any token"),
        lambda found: N_(
            "found character %(found)s that cannot start any token", found=found
        ),
    ),
    (
        re.compile(r"expected <block end>, but found (.+)"),
        lambda found: N_("expected <block end>, but found %(found)s", found=found),
    ),
    (
        re.compile(r"expected ',' or '\}', but got (.+)"),
        lambda found: N_("expected ',' or '}', but got %(found)s", found=found),
    ),
    (
        re.compile(r"expected ',' or '\]', but got (.+)"),
        lambda found: N_("expected ',' or ']', but got %(found)s", found=found),
    ),
    (
        re.compile(r"expected the node content, but found (.+)"),
        lambda found: N_("expected the node content, but found %(found)s", found=found),
    ),
    (
        re.compile(r"found undefined alias (.+)"),
        lambda found: N_("found undefined alias %(found)s", found=found),
    ),
    (
        re.compile(r"found unknown escape character (.+)"),
        lambda found: N_("found unknown escape character %(found)s", found=found),
    ),
)


def marked(text: str) -> str:
    """PyYAML's ``text``, marked for translation when it is a phrase listed here."""
    known = PHRASES.get(text)
    if known is not None:
        return known
    for pattern, mark in _QUOTING:
        match = pattern.fullmatch(text)
        if match is not None:
            return mark(match.group(1))
    return text
