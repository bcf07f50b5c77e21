"""Loading one language's gettext catalog with Babel, from ``bot/locale``.

The build compiles each ``messages.po`` into ``messages.mo`` (``setup.py``); ``.mo``
files are not committed. When a ``.mo`` is missing, or older than its ``.po`` (an edited
catalog in a checkout), the ``.po`` is compiled in memory instead, so a fresh clone
and a translator's working copy both show the current translations.
"""

from __future__ import annotations

import gettext
import io
import logging
import threading
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

logger = logging.getLogger(__name__)

#: Where ``<language>/LC_MESSAGES/messages.po`` live, next to ``messages.pot``.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

_loaded: dict[tuple[str, Path], gettext.NullTranslations] = {}
_lock = threading.Lock()


def load_translations(
    language: str, locale_dir: Path = LOCALE_DIR
) -> gettext.NullTranslations:
    """The catalog of ``language`` (loaded once); English or no catalog: identity."""
    key = (language, locale_dir)
    with _lock:
        cached = _loaded.get(key)
        if cached is None:
            cached = _loaded[key] = _read(language, locale_dir)
        return cached


def _read(language: str, locale_dir: Path) -> gettext.NullTranslations:
    folder = locale_dir / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and not (po.is_file() and po.stat().st_mtime > mo.stat().st_mtime):
        with mo.open("rb") as stream:
            return Translations(stream, domain=DOMAIN)
    if po.is_file():
        logger.debug("compiling %s in memory (no up-to-date .mo)", po)
        return Translations(io.BytesIO(compile_po(po)), domain=DOMAIN)
    return NullTranslations()


def compile_po(po: Path) -> bytes:
    """The ``.mo`` bytes of ``po``; fuzzy entries are left out, as ``msgfmt`` does."""
    with po.open("rb") as stream:
        catalog = read_po(stream)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()
