"""Catalogs ship compiled: the build hook writes .mo files, the runtime falls back to .po."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from bot.i18n import LOCALE_DIR
from bot.i18n.catalogs import compile_po, load_translations

ROOT = Path(__file__).resolve().parents[2]
MSGID = "no audit records yet"
FRENCH = "aucun enregistrement d'audit pour l'instant"


def copy_locale(tmp_path: Path) -> Path:
    folder = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, folder, ignore=shutil.ignore_patterns("*.mo"))
    return folder


def rewrite_translation(po: Path, msgid: str, text: str) -> None:
    with po.open("rb") as stream:
        catalog = read_po(stream)
    catalog[msgid].string = text
    with po.open("wb") as stream:
        write_po(stream, catalog)


def test_without_a_mo_the_po_is_compiled_at_run_time(tmp_path: Path) -> None:
    locale = copy_locale(tmp_path)
    assert not list(locale.glob("*/LC_MESSAGES/*.mo"))
    assert load_translations("fr", locale).gettext(MSGID) == FRENCH


def test_an_up_to_date_mo_is_what_gets_loaded(tmp_path: Path) -> None:
    locale = copy_locale(tmp_path)
    po = locale / "fr" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    rewrite_translation(po, MSGID, "from the mo")
    mo.write_bytes(compile_po(po))
    rewrite_translation(po, MSGID, "from the po")
    os.utime(po, (1, 1))  # the .po is older than the .mo: the .mo wins
    assert load_translations("fr", locale).gettext(MSGID) == "from the mo"


def test_a_po_edited_after_its_mo_wins(tmp_path: Path) -> None:
    locale = copy_locale(tmp_path)
    po = locale / "fr" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    rewrite_translation(po, MSGID, "stale mo")
    mo.write_bytes(compile_po(po))
    os.utime(mo, (1, 1))
    rewrite_translation(po, MSGID, "edited po")
    assert load_translations("fr", locale).gettext(MSGID) == "edited po"


def test_fuzzy_entries_are_not_shipped(tmp_path: Path) -> None:
    locale = copy_locale(tmp_path)
    po = locale / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as stream:
        catalog = read_po(stream)
    catalog[MSGID].flags.add("fuzzy")
    with po.open("wb") as stream:
        write_po(stream, catalog)
    assert load_translations("fr", locale).gettext(MSGID) == MSGID


def test_a_language_without_catalog_is_english(tmp_path: Path) -> None:
    assert load_translations("de", copy_locale(tmp_path)).gettext(MSGID) == MSGID


def test_the_build_compiles_every_catalog_next_to_its_po(tmp_path: Path) -> None:
    """``build_py`` (what a wheel is made from) gets .po, .pot and compiled .mo files."""
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "*.mo", "build", "*.egg-info", "__pycache__", "tests"
        ),
    )
    build_lib = tmp_path / "build"
    built = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build_lib)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    shipped = build_lib / "bot" / "locale"
    assert (shipped / "messages.pot").is_file()
    assert (shipped / "fr" / "LC_MESSAGES" / "messages.po").is_file()
    assert (shipped / "fr" / "LC_MESSAGES" / "messages.mo").is_file()
    assert not list((source / "bot" / "locale").glob("*/LC_MESSAGES/*.mo"))
    os.utime(shipped / "fr" / "LC_MESSAGES" / "messages.po", (1, 1))
    assert load_translations("fr", shipped).gettext(MSGID) == FRENCH
