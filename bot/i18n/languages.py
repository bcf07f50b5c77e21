"""Which language a reader gets: from a Slack locale, the process locale, or a setting.

A language is a two-letter code (``en``, ``fr``). English is the source language of the
catalogs; any other language is available once ``bot/locale/<code>/LC_MESSAGES`` has
its ``messages.po`` (see the README, "Add a language").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from bot.i18n.catalogs import LOCALE_DIR

DEFAULT_LANGUAGE = "en"

#: Process locale variables, in the order POSIX gives them precedence.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_@.].*)?$")


@lru_cache(maxsize=1)
def available_languages() -> tuple[str, ...]:
    """English plus every language that has a catalog in ``bot/locale``."""
    found = {
        path.parent.parent.name
        for pattern in ("*/LC_MESSAGES/messages.po", "*/LC_MESSAGES/messages.mo")
        for path in LOCALE_DIR.glob(pattern)
    }
    return (DEFAULT_LANGUAGE, *sorted(found - {DEFAULT_LANGUAGE}))


def language_of(tag: str | None) -> str | None:
    """The available language a locale tag names (``fr-FR``, ``fr_FR.UTF-8``, ``FR``).

    ``None`` for an empty tag, ``C``/``POSIX`` or a language without a catalog, so the
    caller falls back to the next source.
    """
    match = _TAG.match((tag or "").strip())
    if match is None:
        return None
    language = match.group(1).lower()
    return language if language in available_languages() else None


def language_from_environment(environ: Mapping[str, str], fallback: str) -> str:
    """The CLI's language: the first set locale variable if it names one, else ``fallback``.

    ``LANG=C.UTF-8`` (containers) or a language without a catalog falls back to
    ``SMS_LANGUAGE``, which the caller passes as ``fallback``.
    """
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return language_of(value) or fallback
    return fallback
