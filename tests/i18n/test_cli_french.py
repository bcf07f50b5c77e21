"""The CLI in French: LANG/LC_MESSAGES first, then SMS_LANGUAGE; --json never changes."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from bot.i18n import translator
from tests.cli.test_main import BALANCE_PATH, SEND_PATH, run
from tests.conftest import SENT, SIGNING_SECRET, SLACK_BOT_TOKEN
from tests.fakes.slack import FakeSlack


def test_lang_fr_prints_the_send_in_french_with_french_numbers(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    env["LANG"] = "fr_FR.UTF-8"
    result = run(
        ["send", "--to", "+33612345678", "--simulate", "Bonjour"], env, tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "Envoyé [simulation] : ticket sms_5fec89fe97109, 1 contact, 1 SMS chacun, "
        "coût 0,0333\xa0€, crédit restant 99,50\xa0€ (audit n°1)"
    )


def test_sms_language_applies_when_the_locale_says_nothing(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 12.54, "unit": "euros"}
    )
    env.update(LANG="C.UTF-8", SMS_LANGUAGE="fr")
    assert run(["balance"], env, tmp_path).stdout.strip() == "12,54\xa0€"
    env["LANG"] = "en_US.UTF-8"  # the person's locale wins over the workspace setting
    assert run(["balance"], env, tmp_path).stdout.strip() == "€12.54"
    env["LC_MESSAGES"] = "fr_FR.UTF-8"
    assert run(["balance"], env, tmp_path).stdout.strip() == "12,54\xa0€"


def test_json_output_is_the_same_in_every_language(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    outputs = []
    for lang in ("en_US.UTF-8", "fr_FR.UTF-8"):
        env["LANG"] = lang
        result = run(
            ["send", "--to", "+33612345678", "--json", "--request-id", "same", "Hi"],
            env,
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        outcome.pop("duration_ms")
        outputs.append(outcome)
    assert outputs[0] == outputs[1]
    assert outputs[0]["status"] == "sent" and outputs[0]["total_cost"] == 0.0333


def test_octopush_refusal_hint_is_french(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 121, "message": "STOP mention is missing from your text."},
        status=400,
    )
    env["LANG"] = "fr_FR.UTF-8"
    result = run(["send", "--to", "+33612345678", "Promo"], env, tmp_path)
    assert result.returncode == 1
    # Octopush's own words are quoted as they came; the hint is ours, in French.
    assert "Non envoyé : [121] STOP mention is missing from your text." in result.stderr
    assert "Ajoutez « STOP au 30101 » au texte" in result.stderr
    assert "(audit n°1, échec)" in result.stderr


def test_settings_problems_are_french_and_name_the_variable(
    env: dict[str, str], tmp_path: Path
) -> None:
    env.update(LANG="fr_FR.UTF-8", SMS_RATE_LIMIT="often", SMS_DEFAULT_SENDER="x")
    del env["OCTOPUSH_API_KEY"]
    result = run(["send", "--to", "+33612345678", "Bonjour"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "sms-bot: des réglages manquent ou sont mal formés :"
    assert set(lines[1:]) == {
        "  SMS_DEFAULT_SENDER : doit compter de 3 à 11 lettres, chiffres ou espaces",
        "  SMS_RATE_LIMIT : doit ressembler à 30/hour (N/minute, N/hour ou N/day)",
        "  OCTOPUSH_API_KEY : manquant (la clé d'API Octopush) ; définissez-le dans "
        "l'environnement ou dans .env",
    }


def test_check_speaks_french_but_keeps_its_markers(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 3.5, "unit": "euros"}
    )
    fake_slack.state.scopes = "commands,chat:write"
    env.update(
        LANG="fr_FR.UTF-8",
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "ok   réglages (HTTP sur le port 3000, expéditeur celui du compte)",
        "ok   la base d'audit répond",
        "skip processus d'envoi : aucun ne tourne en ce moment ; `sms-bot serve` en "
        "lance un (les envois et alertes l'attendent)",
        "ok   Octopush joint : crédit 3,50\xa0€",
        # Issue 22: the voice check (the same answer stands for the voice credit).
        "ok   "
        + translator("fr").gettext(
            "voice calls enabled: credit %(credit)s for %(region)s",
            credit="3,50\xa0€",
            region="FR",
        ),
        "FAIL Slack : connecté en tant que sms-bot dans Test mais des autorisations "
        "manquent : chat:write.public, usergroups:read, users.profile:read, "
        "users:read (mettez l'application à jour depuis manifest.yml et "
        "réinstallez-la)",
    ]


def test_help_is_french(env: dict[str, str], tmp_path: Path) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    result = run(["send", "--help"], env, tmp_path)
    assert result.returncode == 0
    assert "Envoyer une campagne SMS." in result.stdout
    assert "mode simulation d'Octopush : rien n'est envoyé" in result.stdout


def test_optout_counts_use_french_plurals(env: dict[str, str], tmp_path: Path) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    assert run(["optout", "list"], env, tmp_path).stdout.strip() == (
        "0 numéro désinscrit"
    )
    added = run(["optout", "add", "+33612345678"], env, tmp_path)
    assert added.stdout.strip() == "+33612345678 est désinscrit"
    run(["optout", "add", "+33698765432"], env, tmp_path)
    listed = run(["optout", "list"], env, tmp_path).stdout.splitlines()
    assert listed[-1] == "2 numéros désinscrits"


def test_db_current_speaks_french(env: dict[str, str], tmp_path: Path) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    empty = run(["db", "current"], env, tmp_path)
    assert empty.returncode == 0, empty.stderr
    head = empty.stdout.split()[-1]
    assert empty.stdout.splitlines() == [
        f"pas encore de schéma (la révision du code est {head} ; "
        "lancez 'sms-bot db upgrade')",
        f"dernière révision du code : {head}",
    ]
    assert run(["db", "upgrade"], env, tmp_path).returncode == 0
    env.pop("LANG")
    env["SMS_LANGUAGE"] = "fr"
    current = run(["db", "current"], env, tmp_path).stdout.splitlines()
    assert current[0] == f"{head} (la dernière : à jour)"
    env["LANG"] = "en_US.UTF-8"  # the locale wins over SMS_LANGUAGE
    english = run(["db", "current"], env, tmp_path).stdout.splitlines()
    assert english == [f"{head} (head: up to date)", f"code head: {head}"]


def test_octopush_failures_are_french_around_octopush_s_own_words(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"code": 101, "message": "Incorrect login"}, status=401
    )
    env.update(LANG="fr_FR.UTF-8", SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="")
    balance = run(["balance"], env, tmp_path)
    assert balance.returncode == 1
    assert balance.stderr.startswith("sms-bot: Octopush : ")
    assert "Incorrect login" in balance.stderr  # Octopush's words, as they came
    check = run(["check"], env, tmp_path).stdout.splitlines()
    (octopush,) = [line for line in check if "Octopush" in line]
    url = httpserver.url_for("/v1/public")
    assert octopush.startswith(f"FAIL Octopush ({url}) : ")
    env["LANG"] = "C"
    english = run(["balance"], env, tmp_path)
    assert english.stderr.startswith("sms-bot: Octopush: ")
    assert "Octopush :" not in english.stderr


def test_overrides_not_shown_is_french(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "directory.yml"
    path.write_text("people:\n  alice: {phone: '+33612345678'}\n")
    env.update(LANG="fr_FR.UTF-8", DATABASE_URL="nosuchdriver://nowhere")
    result = run(["directory", "check", "--file", str(path)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("sms-bot: remplacements non affichés : ")
    assert result.stdout.startswith("Annuaire valide : 1 personne, 0 groupe,")


def test_settings_report_heading_follows_the_translator() -> None:
    from bot.errors import SettingsError
    from bot.i18n import N_, translator

    error = SettingsError([N_("%(name)s: missing", name="SMS_X"), "plain line"])
    assert error.report() == (
        "sms-bot: settings are missing or malformed:\n  SMS_X: missing\n  plain line"
    )
    french = error.report(translator("fr")).splitlines()
    assert french[0] == "sms-bot: des réglages manquent ou sont mal formés :"
    assert french[2] == "  plain line"
