"""Octopush hints in the reader's language.

``bot.octopush`` imports nothing from ``bot``, so its hints are English strings marked
for extraction. A code's hint is its meaning and action joined by
:data:`bot.octopush.codes.HINT_FORMAT`; it is recognised by its English text, so a
hint that travelled through an outcome or an exception is translated the same way.
"""

from __future__ import annotations

from bot.i18n.translator import Translator
from bot.octopush.codes import CODES, CodeInfo

_BY_HINT: dict[str, CodeInfo] = {info.hint: info for info in CODES.values()}


def localized_hint(tr: Translator, hint: str | None) -> str | None:
    """``hint`` translated for ``tr``'s readers; unknown text is shown as it is."""
    if not hint:
        return hint
    info = _BY_HINT.get(hint)
    if info is None:
        return tr.gettext(hint)
    return tr.gettext(
        "%(meaning)s. %(action)s.",
        meaning=tr.gettext(info.meaning),
        action=tr.gettext(info.action),
    )
