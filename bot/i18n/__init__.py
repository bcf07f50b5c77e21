"""Languages people read: gettext catalogs (Babel), locale choice and number formats.

Only what a person reads is translated: Slack posts, ephemeral answers, the form, the
CLI's human output and the bot's own SMS wording. Log lines and the audit trail stay in
English because operators grep them; the text a person typed is never translated.

Imports nothing from the rest of ``bot``, so every layer may use it::

    tr = translator("fr")
    tr.gettext("Sent by %(who)s", who="<@U1>")
    tr.ngettext("%(n)s recipient", "%(n)s recipients", 3)   # "3 destinataires"
    tr.money(0.045)                                          # "0,045 €"

Deep in the bot, where the reader is unknown, texts are marked and translated later::

    problem = N_plural("remove %(n)s character", "remove %(n)s characters", 3)
    tr.gettext(problem)                                      # "retirez 3 caractères"
"""

from __future__ import annotations

from bot.i18n.catalogs import LOCALE_DIR, load_translations
from bot.i18n.deferred import (
    N_,
    Deferred,
    Money,
    N_plural,
    Number,
    Translatable,
    joined,
)
from bot.i18n.languages import (
    DEFAULT_LANGUAGE,
    available_languages,
    language_from_environment,
    language_of,
)
from bot.i18n.translator import Translator, set_default_language, translator

__all__ = [
    "DEFAULT_LANGUAGE",
    "LOCALE_DIR",
    "Deferred",
    "Money",
    "N_",
    "N_plural",
    "Number",
    "Translatable",
    "Translator",
    "available_languages",
    "language_from_environment",
    "language_of",
    "load_translations",
    "joined",
    "set_default_language",
    "translator",
]
