"""argparse's own words (usage, options, its errors) follow the CLI's language.

The real CLI in a subprocess (``tests.cli.test_main.run``) with LANG=fr_FR.UTF-8 or
SMS_LANGUAGE=fr: help and usage errors are entirely French, the exit status stays 2.
LANG=C and en_US keep argparse's English exactly.
"""

from __future__ import annotations

import argparse
import gettext
import re
from pathlib import Path

import pytest

from bot.cli.argparse_words import WORDS, argparse_speaking
from bot.cli.main import main
from bot.i18n import load_translations, translator
from tests.cli.test_main import run

FRENCH = ({"LANG": "fr_FR.UTF-8"}, {"SMS_LANGUAGE": "fr"})
ENGLISH = ({"LANG": "C"}, {"LANG": "en_US.UTF-8", "SMS_LANGUAGE": "fr"})

#: Words of argparse and of our own help that a French help must not contain.
ENGLISH_WORDS = {
    "usage",
    "positional",
    "show",
    "this",
    "exit",
    "program's",
    "error",
    "required",
    "invalid",
    "choice",
    "choose",
    "the",
    "and",
    "of",
    "from",
    "with",
    "run",
    "COMMAND",
    "TEXT",
    "SENDER",
    "NUMBER",
    "REQUEST_ID",
    "FILE",
    "DAYS",
    "LIMIT",
}


def words(text: str) -> set[str]:
    """The words of ``text``, leaving out options (``--help``) and setting names."""
    return set(re.findall(r"(?<![-\w$])[A-Za-z][A-Za-z_']*(?![\w-])", text))


@pytest.mark.parametrize("locale", FRENCH)
@pytest.mark.parametrize(
    "command", [[], ["send"], ["optout", "add"], ["directory", "check"]]
)
def test_help_is_entirely_french(
    env: dict[str, str], tmp_path: Path, locale: dict[str, str], command: list[str]
) -> None:
    env.update(locale)
    result = run([*command, "--help"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"utilisation : sms-bot {' '.join(command)}")
    assert "options :\n  -h, --help" in result.stdout
    assert "afficher ce message d'aide et quitter" in result.stdout
    assert words(result.stdout) & ENGLISH_WORDS == set()


def test_top_level_help_names_its_parts_in_french(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    out = run(["--help"], env, tmp_path).stdout
    assert "[-v] COMMANDE ...\n" in out
    assert "arguments positionnels :\n  COMMANDE\n" in out
    assert "afficher le numéro de version du programme et quitter" in out
    assert "envoyer une campagne SMS" in out
    sent = run(["send", "--help"], env, tmp_path).stdout
    assert "[--sender EXPÉDITEUR]" in sent and "TEXTE [TEXTE ...]" in sent


@pytest.mark.parametrize("locale", FRENCH)
def test_usage_errors_are_french_and_exit_2(
    env: dict[str, str], tmp_path: Path, locale: dict[str, str]
) -> None:
    env.update(locale)
    missing = run(["send"], env, tmp_path)
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr.startswith("utilisation : sms-bot send [-h] --to N[,N...]")
    assert missing.stderr.splitlines()[-1] == (
        "sms-bot send: erreur : les arguments suivants sont obligatoires : --to, TEXTE"
    )
    unknown = run(["bogus"], env, tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.splitlines()[-1].startswith(
        "sms-bot: erreur : argument COMMANDE : choix invalide : 'bogus' "
        "(choisissez parmi 'serve', 'send',"
    )
    extra = run(["balance", "now"], env, tmp_path)
    assert extra.returncode == 2
    assert extra.stderr.splitlines()[-1] == (
        "sms-bot: erreur : arguments non reconnus : now"
    )
    typed = run(["playground", "--port", "abc"], env, tmp_path)
    assert typed.returncode == 2
    assert typed.stderr.splitlines()[-1] == (
        "sms-bot playground: erreur : argument --port : valeur int invalide : 'abc'"
    )
    for result in (missing, unknown, extra, typed):
        assert words(result.stderr) & ENGLISH_WORDS == set()


@pytest.mark.parametrize("locale", ENGLISH)
def test_english_help_and_errors_are_argparse_s_own(
    env: dict[str, str], tmp_path: Path, locale: dict[str, str]
) -> None:
    env.update(locale)
    helped = run(["send", "--help"], env, tmp_path).stdout
    assert helped.startswith("usage: sms-bot send [-h] --to N[,N...] [--sender SENDER]")
    assert "\npositional arguments:\n  TEXT " in helped
    assert "\noptions:\n  -h, --help            show this help message and exit\n" in (
        helped
    )
    assert "--request-id REQUEST_ID" in helped
    top = run(["--help"], env, tmp_path).stdout
    assert "  --version      show program's version number and exit\n" in top
    missing = run(["send"], env, tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[-1] == (
        "sms-bot send: error: the following arguments are required: --to, TEXT"
    )
    assert "utilisation" not in missing.stderr + helped + top


def test_argparse_gets_its_own_gettext_back_after_the_cli_ran(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    with pytest.raises(SystemExit) as exited:
        main(["send"])
    assert exited.value.code == 2
    assert (
        "erreur : les arguments suivants sont obligatoires" in capsys.readouterr().err
    )
    assert vars(argparse)["_"] is gettext.gettext
    assert vars(argparse)["ngettext"] is gettext.ngettext
    parser = argparse.ArgumentParser(prog="other")
    assert "usage: other" in parser.format_usage()


def test_only_the_block_speaks_the_translator_s_language() -> None:
    with argparse_speaking(translator("fr")):
        inside = argparse.ArgumentParser(prog="x")
        inside.add_argument("name")
        french = inside.format_help()
    assert french.startswith("utilisation : x [-h] name")
    assert "arguments positionnels :" in french
    assert argparse.ArgumentParser(prog="x").format_usage().startswith("usage: x")


PLACEHOLDERS = re.compile(r"%(?:\(\w+\))?[sr]")


@pytest.mark.parametrize("word", WORDS, ids=str)
def test_each_argparse_word_is_translated_keeping_argparse_s_placeholders(
    word: str,
) -> None:
    """argparse fills ``%s`` and ``%(prog)s`` itself: a French text keeps each one."""
    french = load_translations("fr").gettext(word)
    assert french != word
    assert sorted(PLACEHOLDERS.findall(french)) == sorted(PLACEHOLDERS.findall(word))
    assert french.endswith("\n") == word.endswith("\n")
