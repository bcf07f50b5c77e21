"""How many SMS a text costs: GSM-7 or Unicode (UCS-2), and the number of parts.

Octopush bills every part for every recipient, and one character outside the GSM-7
alphabet (``ç``, ``’``, an emoji) switches the whole text to Unicode, which more than
halves what fits in one SMS. The modal and the confirmation step show this before
sending. It is an estimate: Octopush's ``auto_optimize_text`` may rewrite the text, and
its ``number_of_sms_needed`` answer is the figure that is billed.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.i18n import N_, N_plural, joined

#: The GSM 03.38 basic table, in code order (0x00-0x7F). 0x1B is the escape to the
#: extension table, not a character a person can type, so it is left out of
#: :data:`GSM_BASIC`: a literal ESC in a text forces Unicode.
GSM_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
#: Characters that cost one septet each.
GSM_BASIC = frozenset(GSM_BASIC_TABLE) - {"\x1b"}
#: The extension table: each costs two septets (ESC plus the character).
GSM_EXTENSION = frozenset("\x0c^{}\\[~]|€")

GSM_SINGLE, GSM_PART = 160, 153  # septets; a concatenated part loses 7 to its header
UNICODE_SINGLE, UNICODE_PART = 70, 67  # UTF-16 code units

Encoding = Literal["GSM-7", "Unicode"]

#: How many forcing characters :func:`describe` names before summing up the rest.
_NAMED_CHARS = 5


@dataclass(frozen=True)
class SegmentInfo:
    """The encoding and SMS count of one text, per recipient."""

    encoding: Encoding
    #: GSM: septets (extension characters count 2). Unicode: UTF-16 code units
    #: (characters outside the BMP, such as most emoji, count 2).
    units: int
    #: SMS per recipient; 0 for an empty text.
    parts: int
    #: Distinct characters that force Unicode, in order of first appearance.
    unicode_chars: tuple[str, ...] = ()
    #: Units still free in the last part before one more SMS is needed.
    remaining: int = GSM_SINGLE

    @property
    def is_unicode(self) -> bool:
        return self.encoding == "Unicode"

    @property
    def per_part(self) -> int:
        """Units per SMS at this count: a lone SMS holds more than each of several."""
        single, part = (
            (UNICODE_SINGLE, UNICODE_PART)
            if self.is_unicode
            else (GSM_SINGLE, GSM_PART)
        )
        return single if self.parts <= 1 else part


def _width(char: str, *, unicode: bool) -> int:
    if unicode:
        return 2 if ord(char) > 0xFFFF else 1
    return 2 if char in GSM_EXTENSION else 1


def _pack(widths: list[int], part: int) -> tuple[int, int]:
    """Parts needed and units used in the last one, never splitting a 2-unit character.

    Phones cannot rebuild an escape pair or a surrogate pair cut across two parts, so
    encoders move the whole character to the next part and the last unit stays empty.
    """
    parts, used = 1, 0
    for width in widths:
        if used + width > part:
            parts, used = parts + 1, 0
        used += width
    return parts, used


def analyse(text: str) -> SegmentInfo:
    """Pick the encoding Octopush will use for ``text`` and count its SMS parts."""
    if not text:
        return SegmentInfo(encoding="GSM-7", units=0, parts=0)
    forcing = tuple(
        dict.fromkeys(c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION)
    )
    unicode = bool(forcing)
    single, part = (UNICODE_SINGLE, UNICODE_PART) if unicode else (GSM_SINGLE, GSM_PART)
    widths = [_width(char, unicode=unicode) for char in text]
    units = sum(widths)
    if units <= single:
        parts, remaining = 1, single - units
    else:
        parts, used = _pack(widths, part)
        remaining = part - used
    return SegmentInfo(
        encoding="Unicode" if unicode else "GSM-7",
        units=units,
        parts=parts,
        unicode_chars=forcing,
        remaining=remaining,
    )


def show_char(char: str) -> str:
    """A character as a person can recognise it: ``'ç'``, or ``U+00A0 NO-BREAK SPACE``.

    Invisible characters (no-break spaces, variation selectors) are a common reason a
    text pasted from elsewhere turns Unicode, so they are named rather than printed.
    """
    if char.isprintable() and not char.isspace():
        return f"'{char}'"
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def describe(info: SegmentInfo) -> str:
    """One short line for people, e.g. ``GSM-7, 172 characters: 2 SMS per recipient``.

    GSM extension characters and emoji count 2 in the character count, because they
    take 2 units of the SMS. Deferred (:mod:`bot.i18n`): a surface shows it with
    ``tr.gettext``, counts in the reader's plural.
    """
    if info.parts == 0:
        return N_("Empty message: 0 SMS")
    count = N_plural("%(n)s SMS per recipient", "%(n)s SMS per recipient", info.parts)
    if not info.is_unicode:
        return N_plural(
            "GSM-7, %(n)s character: %(count)s",
            "GSM-7, %(n)s characters: %(count)s",
            info.units,
            count=count,
        )
    named = joined(
        [show_char(char) for char in info.unicode_chars[:_NAMED_CHARS]], ", "
    )
    more = len(info.unicode_chars) - _NAMED_CHARS
    if more > 0:
        named = N_plural(
            "%(head)s and %(n)s more", "%(head)s and %(n)s more", more, head=named
        )
    return N_plural(
        "Unicode because of %(chars)s, %(n)s character: %(count)s",
        "Unicode because of %(chars)s, %(n)s characters: %(count)s",
        info.units,
        chars=named,
        count=count,
    )
