"""Every catalog is complete, not fuzzy, and keeps the placeholders of its msgids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, available_languages
from tests.i18n import pot_check

PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
TRANSLATED = [language for language in available_languages() if language != "en"]


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def same_placeholders(found: list[str], expected: list[str], ids: list[str]) -> bool:
    """Equal; a plural form may leave out the count ``n`` ("Destinataire")."""
    if len(ids) > 1 and "n" not in found:
        return found == [name for name in expected if name != "n"]
    return found == expected


def forms(message: Message) -> list[str]:
    return (
        list(message.string) if isinstance(message.string, tuple) else [message.string]
    )


def problems_of(catalog: Catalog, template: Catalog) -> list[str]:
    """What makes ``catalog`` unfit to ship: missing, empty, fuzzy or mismatched."""
    found = []
    for entry in template:
        if entry.id and catalog.get(entry.id) is None:
            found.append(f"missing: {entry.id!r}")
    for message in catalog:
        if not message.id:
            continue
        ids = list(message.id) if isinstance(message.id, tuple) else [message.id]
        if message.fuzzy:
            found.append(f"fuzzy: {ids[0]!r}")
        if not all(forms(message)):
            found.append(f"untranslated: {ids[0]!r}")
        expected = placeholders(ids[-1])
        for text in forms(message):
            if text and not same_placeholders(placeholders(text), expected, ids):
                found.append(f"placeholders differ: {ids[0]!r} -> {text!r}")
    return found


def test_french_is_a_shipped_language() -> None:
    assert "fr" in TRANSLATED


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_is_complete_and_keeps_every_placeholder(language: str) -> None:
    template = read_catalog(LOCALE_DIR / "messages.pot")
    catalog = read_catalog(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po")
    assert problems_of(catalog, template) == []


def test_the_check_names_untranslated_fuzzy_and_mismatched_entries() -> None:
    template = Catalog()
    template.add("Sent by %(who)s")
    template.add("Nothing to do")
    template.add("Cancel")
    template.add("Missing here")
    catalog = Catalog(locale="fr")
    catalog.add("Sent by %(who)s", "Envoyé par %(qui)s")
    catalog.add("Nothing to do", "")
    catalog.add("Cancel", "Annuler", flags=["fuzzy"])
    assert problems_of(catalog, template) == [
        "missing: 'Missing here'",
        "placeholders differ: 'Sent by %(who)s' -> 'Envoyé par %(qui)s'",
        "untranslated: 'Nothing to do'",
        "fuzzy: 'Cancel'",
    ]


def test_plural_forms_are_all_checked() -> None:
    template = Catalog()
    template.add(("%(n)s recipient", "%(n)s recipients"))
    catalog = Catalog(locale="fr")
    catalog.add(
        ("%(n)s recipient", "%(n)s recipients"),
        ("%(n)s destinataire", "", "%(count)s destinataires"),
    )
    template.add(("Recipient", "Recipients (%(n)s)"))
    # A form may leave the count out ("Destinataire"), nothing else.
    catalog.add(("Recipient", "Recipients (%(n)s)"), ("Destinataire", "", ""))
    catalog["Recipient"].string = ("Destinataire", "Destinataires (%(n)s)", "x")
    assert problems_of(catalog, template) == [
        "untranslated: '%(n)s recipient'",
        "placeholders differ: '%(n)s recipient' -> '%(count)s destinataires'",
    ]


def test_template_is_what_extraction_gives_today() -> None:
    assert pot_check.stale_lines() == [], "run the README's pybabel extract command"


def test_template_check_ignores_only_the_volatile_header_lines() -> None:
    header = (
        "# Copyright (C) 2026 ORGANIZATION\n"
        '"POT-Creation-Date: 2026-12-01 17:00+0000\\n"\n'
        '"Generated-By: Babel 2.19.0\\n"\n'
        'msgid "Cancel"\n'
    )
    later = header.replace("2026-12-01 17:00", "2027-01-02 08:00").replace(
        "2.19.0", "2.20.0"
    )
    assert pot_check.comparable(header) == pot_check.comparable(later)
    assert pot_check.comparable(header) != pot_check.comparable(
        header.replace("Cancel", "Annul")
    )
