"""Translations, real plurals, deferred texts and per-locale numbers and money."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import N_, Deferred, Money, N_plural, Number, formats, joined, translator
from bot.i18n.octopush_hints import localized_hint
from bot.octopush import codes


def test_french_translates_and_fills_placeholders() -> None:
    fr = translator("fr")
    assert fr.gettext("ticket %(ticket)s", ticket="sms_1") == "ticket sms_1"
    assert fr.gettext("HTTP on port %(port)s", port=3000) == "HTTP sur le port 3000"
    assert translator("en").gettext("HTTP on port %(port)s", port=3000) == (
        "HTTP on port 3000"
    )


def test_plurals_follow_the_language() -> None:
    fr, en = translator("fr"), translator("en")
    one, many = "%(n)s opted-out number", "%(n)s opted-out numbers"
    assert fr.ngettext(one, many, 1) == "1 numéro désinscrit"
    assert fr.ngettext(one, many, 3) == "3 numéros désinscrits"
    # French counts zero as singular, English does not.
    assert fr.ngettext(one, many, 0) == "0 numéro désinscrit"
    assert en.ngettext(one, many, 0) == "0 opted-out numbers"
    assert en.ngettext(one, many, 1) == "1 opted-out number"
    assert fr.ngettext(one, many, 1234) == "1\u202f234 numéros désinscrits"


def test_unknown_text_and_unknown_language_stay_english() -> None:
    assert translator("fr").gettext("not a msgid %(x)s", x=1) == "not a msgid 1"
    assert translator("de-DE").language == "en"
    assert translator(None).language == "en"
    assert translator("fr-FR").language == "fr"


def test_deferred_text_is_english_until_a_reader_translates_it() -> None:
    text = N_("must be one of %(languages)s", languages="en, fr")
    assert isinstance(text, Deferred) and isinstance(text, str)
    assert text == "must be one of en, fr"
    assert translator("fr").gettext(text) == ("doit être l'une de ces langues : en, fr")
    nested = N_("%(variable)s: %(problem)s", variable="SMS_X", problem=text)
    assert translator("fr").gettext(nested) == (
        "SMS_X : doit être l'une de ces langues : en, fr"
    )
    assert pickle.loads(pickle.dumps(text)).params == {"languages": "en, fr"}


def test_a_deferred_count_takes_the_readers_plural_form() -> None:
    one, many = "%(n)s opted-out number", "%(n)s opted-out numbers"
    single, several = N_plural(one, many, 1), N_plural(one, many, 1234)
    assert (single, several) == ("1 opted-out number", "1,234 opted-out numbers")
    fr = translator("fr")
    assert fr.gettext(single) == "1 numéro désinscrit"
    assert fr.gettext(several) == "1\u202f234 numéros désinscrits"
    # Nested in another deferred text, and after a round trip through pickle.
    nested = N_("%(variable)s: %(problem)s", variable="SMS_X", problem=several)
    assert fr.gettext(nested) == "SMS_X : 1\u202f234 numéros désinscrits"
    assert fr.gettext(pickle.loads(pickle.dumps(several))) == fr.gettext(several)


def test_joined_parts_are_translated_one_by_one() -> None:
    first = N_("must be one of %(languages)s", languages="en, fr")
    second = N_plural("%(n)s opted-out number", "%(n)s opted-out numbers", 2)
    both = joined([first, "typed as is", second])
    assert both == "must be one of en, fr; typed as is; 2 opted-out numbers"
    assert translator("fr").gettext(both) == (
        "doit être l'une de ces langues : en, fr ; typed as is ; 2 numéros désinscrits"
    )
    assert joined([first]) is first
    assert joined([]) == ""


def test_numbers_and_money_in_a_deferred_text_follow_the_reader() -> None:
    text = N_(
        "%(variable)s: %(problem)s",
        variable=Number(1234.5),
        problem=Money(0.045),
    )
    assert text == "1,234.5: €0.045"
    assert translator("fr").gettext(text) == "1\u202f234,5 : 0,045\xa0€"
    fixed = N_("%(variable)s: %(problem)s", variable=Number(3.5, places=2), problem="")
    assert fixed == "3.50: "
    assert translator("fr").gettext(fixed).startswith("3,50")


def test_a_broken_translation_shows_english_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fr = translator("fr")
    fr._catalog._catalog["Sent by %(who)s"] = "Envoyé par %(qui)s"  # type: ignore[attr-defined]
    try:
        with caplog.at_level(logging.ERROR, logger="bot.i18n.translator"):
            assert fr.gettext("Sent by %(who)s", who="me") == "Sent by me"
        assert "bad fr translation" in caplog.text
    finally:
        del fr._catalog._catalog["Sent by %(who)s"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("language", "cost", "credit", "number"),
    [
        ("en", "€0.045", "€99.50", "1,234.5"),
        ("fr", "0,045\xa0€", "99,50\xa0€", "1\u202f234,5"),
    ],
)
def test_money_and_numbers_are_written_the_readers_way(
    language: str, cost: str, credit: str, number: str
) -> None:
    tr = translator(language)
    assert tr.money(0.045) == cost
    assert tr.money(99.5) == credit
    assert tr.number(1234.5) == number
    assert tr.number(0.1 + 0.2) == ("0.3" if language == "en" else "0,3")
    assert tr.number(3) == "3"


@pytest.mark.parametrize(
    ("language", "negative", "fixed", "dollars"),
    [
        ("en", "-€1,234.50", ["3.50", "1,234.57", "0.00"], "$3.00"),
        ("fr", "-1\u202f234,50\xa0€", ["3,50", "1\u202f234,57", "0,00"], "3,00\xa0$US"),
    ],
)
def test_fixed_decimals_negatives_and_other_currencies_follow_the_reader(
    language: str, negative: str, fixed: list[str], dollars: str
) -> None:
    tr = translator(language)
    assert tr.money(-1234.5) == negative
    shown = [
        Number(value, places=2).format(tr.locale) for value in (3.5, 1234.567, 0.005)
    ]
    assert shown == fixed
    assert tr.money(3, "USD") == dollars


@pytest.mark.parametrize("language", ["en", "fr"])
def test_zero_and_minus_zero_keep_their_own_text_whatever_came_first(
    language: str,
) -> None:
    # Equal numbers, different texts: the kept texts must not mix them up.
    tr = translator(language)
    for _ in range(2):
        assert tr.number(0) == "0"
        assert tr.number(-0.0) == "-0"
        assert Number(-0.0, places=2).format(tr.locale).startswith("-0")
        assert not Number(0, places=2).format(tr.locale).startswith("-")
        assert tr.money(-0.0).startswith("-")
        assert not tr.money(0.0).startswith("-")


def test_a_cost_written_before_is_not_formatted_by_babel_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each result post writes the same price and counts: Babel's work is done once.
    calls: list[str] = []
    for name in ("format_currency", "format_decimal"):
        real = getattr(formats, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> str:
            calls.append(_name)
            return str(_real(*args, **kw))

        monkeypatch.setattr(formats, name, counted)
    fr = translator("fr")
    first = [
        fr.money(0.0451),
        fr.number(1234.56),
        Number(7.25, places=3).format(fr.locale),
    ]
    made = len(calls)
    again = [
        fr.money(0.0451),
        fr.number(1234.56),
        Number(7.25, places=3).format(fr.locale),
    ]
    assert again == first == ["0,0451\xa0€", "1\u202f234,56", "7,250"]
    assert len(calls) == made


def test_dates_for_the_cli_are_in_the_readers_language() -> None:
    when = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)
    assert translator("fr").when(when) == "1 déc. 2026, 17:05:00"
    assert translator("en").when(when) == "Dec 1, 2026, 5:05:00\u202fPM"


def test_octopush_hints_are_translated_by_their_english_text() -> None:
    fr = translator("fr")
    hint = codes.hint_for("121")
    assert hint is not None
    assert localized_hint(fr, hint) == (
        "Un SMS marketing doit contenir exactement le texte « STOP au 30101 ». "
        "Ajoutez « STOP au 30101 » au texte, ou envoyez avec l'objet alert si le "
        "message n'est pas commercial."
    )
    assert localized_hint(translator("en"), hint) == hint
    assert localized_hint(fr, codes.NOT_REACHED_HINT) == (
        "Octopush n'a pas pu être joint, rien n'a donc été envoyé. Vérifiez le "
        "réseau et l'URL de base, puis réessayez."
    )
    assert localized_hint(fr, "Something Octopush never said.") == (
        "Something Octopush never said."
    )
    assert localized_hint(fr, None) is None


def test_every_octopush_hint_has_a_french_translation() -> None:
    fr = translator("fr")
    hints = [info.hint for info in codes.CODES.values()] + [
        value
        for name, value in vars(codes).items()
        if name.endswith("_HINT") and isinstance(value, str)
    ]
    untranslated = [hint for hint in hints if localized_hint(fr, hint) == hint]
    assert untranslated == []


def test_the_hint_format_msgid_is_octopushs() -> None:
    assert codes.HINT_FORMAT == "%(meaning)s. %(action)s."
