"""``Translator``: one language's catalog and number formats, bound together.

Messages use ``%(name)s`` placeholders, never positional ones, so a translation may
reorder them. Counts go through :meth:`Translator.ngettext`, which picks the language's
plural form and fills ``%(n)s`` with the count written the reader's way.
"""

from __future__ import annotations

import gettext
import logging
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel import Locale

from bot.i18n import formats
from bot.i18n.catalogs import load_translations
from bot.i18n.deferred import Deferred, Money, Number
from bot.i18n.languages import DEFAULT_LANGUAGE, language_of

logger = logging.getLogger(__name__)


class Translator:
    """Translates and formats for readers of one language (``en``, ``fr``)."""

    def __init__(self, language: str, catalog: gettext.NullTranslations) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self._catalog = catalog

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    def gettext(self, message: str, /, **params: Any) -> str:
        """``message`` in this language, ``%(name)s`` filled from ``params``.

        A :class:`Deferred` brings its own msgid and parameters (themselves translated
        when deferred, written the reader's way when a :class:`Number` or
        :class:`Money`); any other string is looked up as it is (a static English
        text), and shown unchanged if unknown.
        """
        if isinstance(message, Deferred):
            params = {**message.params, **params}
            if message.plural is not None and message.n is not None:
                return self.ngettext(message.msgid, message.plural, message.n, **params)
            message = message.msgid
        return self._fill(self._catalog.gettext(message), message, params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form for ``n`` (``1 destinataire``, ``3 destinataires``)."""
        chosen = self._catalog.ngettext(singular, plural, n)
        english = singular if n == 1 else plural
        return self._fill(chosen, english, {"n": self.number(n), **params})

    def number(self, value: float | int | Decimal) -> str:
        return formats.format_number(value, self.locale)

    def money(self, value: float | int | Decimal, currency: str = "EUR") -> str:
        return formats.format_money(value, self.locale, currency)

    def when(self, moment: datetime) -> str:
        return formats.format_when(moment, self.locale)

    def _localized(self, value: Any) -> Any:
        if isinstance(value, Deferred):
            return self.gettext(value)
        if isinstance(value, Number | Money):
            return value.format(self.locale)
        return value

    def _fill(self, text: str, english: str, params: dict[str, Any]) -> str:
        if not params:
            return text
        params = {key: self._localized(value) for key, value in params.items()}
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            # A broken translation (the catalog tests catch these) must not hide the
            # message: say so in the log and show the English text instead.
            logger.error("bad %s translation of %r", self.language, english)
            return english % params


#: The process's default language: ``SMS_LANGUAGE`` once the Slack app is built.
_default = [DEFAULT_LANGUAGE]


def set_default_language(language: str) -> None:
    """Make ``language`` what :func:`translator` gives when asked for none.

    ``build_stack`` sets ``SMS_LANGUAGE`` here, so a channel post built without an
    explicit translator (a receipt re-rendering a post) stays in the workspace's language.
    """
    _default[0] = language_of(language) or DEFAULT_LANGUAGE


def translator(language: str | None = None) -> Translator:
    """The translator for ``language`` (a code or a locale tag such as ``fr-FR``).

    No language: the process default (:func:`set_default_language`); an unknown one:
    English, the catalogs' source language.
    """
    if language is None:
        return _translator(_default[0])
    return _translator(language_of(language) or DEFAULT_LANGUAGE)


@lru_cache(maxsize=16)
def _translator(language: str) -> Translator:
    return Translator(language, load_translations(language))
