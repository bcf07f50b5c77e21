"""English text that remembers its msgid, so a surface can translate it later.

Errors and hints are made deep in the bot (rules, settings) where nobody knows who will
read them. They stay plain English strings for logs, exceptions and the audit trail,
and a surface that knows its reader calls ``tr.gettext(text)`` to show them translated.
Counts (:func:`N_plural`), several problems in one sentence (:func:`joined`) and
numbers or amounts (:class:`Number`, :class:`Money`) keep their meaning the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from babel import Locale
from pydantic import PlainSerializer, ValidatorFunctionWrapHandler, WrapValidator

from bot.i18n import formats

_ENGLISH = Locale.parse("en")


class Deferred(str):
    """A ``str`` whose value is the English text; ``msgid`` and ``params`` rebuild it.

    A plural text also has ``plural`` and ``n`` (the count, filled in as ``%(n)s``).
    Any string operation (concatenation, f-string) gives a plain ``str`` again, which
    surfaces show as it is: marking is an addition, never a requirement.
    """

    msgid: str
    params: dict[str, Any]
    plural: str | None
    n: int | None

    def __new__(
        cls,
        msgid: str,
        params: dict[str, Any],
        plural: str | None = None,
        n: int | None = None,
    ) -> Deferred:
        english = msgid
        filled = dict(params)
        if plural is not None and n is not None:
            english = msgid if n == 1 else plural
            filled = {"n": Number(n), **filled}
        text = super().__new__(cls, english % filled if filled else english)
        text.msgid = msgid
        text.params = dict(params)
        text.plural = plural
        text.n = n
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Deferred, (self.msgid, self.params, self.plural, self.n))


def _keep_deferred(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    return value if isinstance(value, Deferred) else handler(value)


#: A pydantic ``str`` field that keeps a :class:`Deferred` as it is (pydantic would
#: make it a plain ``str``), so a model carrying a message stays translatable;
#: ``model_dump`` gives the English ``str`` (what the audit store writes).
Translatable = Annotated[
    str, WrapValidator(_keep_deferred), PlainSerializer(str, return_type=str)
]


def N_(msgid: str, /, **params: Any) -> Deferred:  # noqa: N802 (gettext's marker name)
    """Mark ``msgid`` for extraction (``pybabel``) and translate it later, not now."""
    return Deferred(msgid, params)


def N_plural(singular: str, plural: str, n: int, /, **params: Any) -> Deferred:  # noqa: N802
    """Like :func:`N_` for a count: ``%(n)s`` is ``n``, the form is the reader's plural.

    Extracted by ``pybabel`` as a plural message (``babel.cfg`` names the keyword).
    """
    return Deferred(singular, params, plural, n)


def joined(parts: Sequence[str], separator: str = "; ") -> str:
    """``parts`` as one sentence, each part still translatable on its own.

    One part is returned as it is; no parts give ``""``. The usual ``"; "`` is itself
    a message, so a language can write it its own way (French: ``" ; "``).
    """
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if separator == "; ":
        return N_("%(first)s; %(then)s", first=parts[0], then=joined(parts[1:]))
    names = [f"part{index}" for index in range(len(parts))]
    template = separator.join(f"%({name})s" for name in names)
    return Deferred(template, dict(zip(names, parts, strict=True)))


@dataclass(frozen=True)
class Number:
    """A number a reader sees in their own way (``1 234,5`` in French).

    ``places`` fixes the decimals shown (``2`` for ``3,50``); ``None`` keeps them all.
    ``str()`` gives the English form, for logs and the audit trail.
    """

    value: float | int | Decimal
    places: int | None = None

    def __str__(self) -> str:
        return self.format(_ENGLISH)

    def format(self, locale: Locale) -> str:
        if self.places is None:
            return formats.format_number(self.value, locale)
        return formats.format_fixed(self.value, locale, self.places)


@dataclass(frozen=True)
class Money:
    """An amount in a currency, written the reader's way (``0,045 €``, ``€0.045``)."""

    value: float | int | Decimal
    currency: str = formats.DEFAULT_CURRENCY

    def __str__(self) -> str:
        return self.format(_ENGLISH)

    def format(self, locale: Locale) -> str:
        return formats.format_money(self.value, locale, self.currency)
