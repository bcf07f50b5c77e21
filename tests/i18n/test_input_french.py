"""Bad input in French: each rule's problem, then what a French Slack user reads.

The rules keep English (logs, exceptions and the audit trail grep it); a French reader
gets the same problem, values and counts included, from the catalog. Through the HTTP
surface, U1's Slack locale is fr-FR and U2's en-US (see ``french_user``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.domain import MAX_TEXT_LENGTH, Purpose, SendDraft
from bot.errors import AuditStoreError, InputError
from bot.i18n import translator
from bot.phones import parse_phone, write_as
from bot.sending.rules import (
    SendDefaults,
    check_send_at,
    check_sender,
    check_stop_mention,
    check_text,
    resolve_recipients,
    validate_draft,
)
from bot.sending.segments import analyse, describe
from bot.slack import ids
from tests.cli.test_main import run
from tests.conftest import SENT, SlackHarness
from tests.i18n.test_slack_french import SEND_PATH
from tests.i18n.test_slack_french import french_user as french_user
from tests.slack.listeners.test_commands import all_text
from tests.slack.listeners.test_forms import (
    as_dict,
    opened_form_blocks,
    state,
    submission,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FR = translator("fr")
EN = translator("en")


def problem_of(check: Callable[[], object], field: str) -> str:
    with pytest.raises(InputError) as caught:
        check()
    return caught.value.problems[field]


# Unit level: each rule's problem, translated by the reader's translator


def test_an_empty_text_is_french() -> None:
    problem = problem_of(lambda: check_text("  "), "text")
    assert FR.gettext(problem) == "Le message est vide ; écrivez le texte à envoyer"
    assert EN.gettext(problem) == "The message is empty; write the text to send"


@pytest.mark.parametrize(
    ("over", "remove"),
    [(1, "retirez donc 1 caractère"), (77, "retirez donc 77 caractères")],
)
def test_a_too_long_text_is_french_with_its_counts(over: int, remove: str) -> None:
    length = MAX_TEXT_LENGTH + over
    problem = problem_of(lambda: check_text("a" * length), "text")
    assert FR.gettext(problem) == (
        f"Le message fait {length} caractères ; la limite est de "
        f"{MAX_TEXT_LENGTH}, {remove}"
    )
    assert str(problem) == (
        f"The message is {length} characters; the limit is {MAX_TEXT_LENGTH}, "
        f"so remove {over}"
    )


def test_a_sender_with_bad_characters_is_french_and_quotes_them_the_french_way() -> (
    None
):
    problem = problem_of(lambda: check_sender("Café-Bar"), "sender")
    assert FR.gettext(problem) == (
        "L'expéditeur « Café-Bar » contient « é », « - » ; utilisez seulement des "
        "lettres A-Z, des chiffres et des espaces (3 à 11)"
    )
    assert str(problem).startswith("The sender 'Café-Bar' contains 'é', '-'; ")


@pytest.mark.parametrize(
    ("sender", "said"),
    [("AB", "fait 2 caractères"), ("ACME Services", "fait 13 caractères")],
)
def test_a_sender_of_the_wrong_length_is_french(sender: str, said: str) -> None:
    problem = problem_of(lambda: check_sender(sender), "sender")
    assert FR.gettext(problem) == (
        f"L'expéditeur « {sender} » {said} ; "
        "utilisez 3 à 11 lettres, chiffres ou espaces"
    )


def test_a_one_character_sender_is_singular_in_both_languages() -> None:
    problem = problem_of(lambda: check_sender("A"), "sender")
    assert "fait 1 caractère ;" in FR.gettext(problem)
    assert "is 1 character;" in EN.gettext(problem)


def test_send_time_problems_are_french() -> None:
    naive = problem_of(
        lambda: check_send_at(datetime(2026, 12, 2, 9, 0), now=NOW), "send_at"
    )
    assert FR.gettext(naive) == (
        "L'heure d'envoi 2026-12-02T09:00:00 doit avoir un fuseau horaire, "
        "par exemple 2026-12-02T09:00:00+01:00"
    )
    past = problem_of(
        lambda: check_send_at(NOW - timedelta(hours=2), now=NOW), "send_at"
    )
    translated = FR.gettext(past)
    assert translated.startswith("L'heure d'envoi 2026-12-01T07:00:00+00:00 est passée")
    assert "(il est maintenant 2026-12-01T09:00:00+00:00)" in translated
    assert "in the past" not in translated


def test_stop_mention_problems_are_french() -> None:
    missing = problem_of(
        lambda: check_stop_mention("Soldes -50%", Purpose.WHOLESALE), "text"
    )
    assert FR.gettext(missing).startswith(
        "Les messages marketing (objet wholesale) doivent contenir « STOP au 30101 » ;"
        " ajoutez-le à la fin du texte"
    )
    miswritten = problem_of(
        lambda: check_stop_mention("Soldes stop au 30101", Purpose.WHOLESALE), "text"
    )
    assert "pas « stop au 30101 »" in FR.gettext(miswritten)
    assert "written exactly so, not 'stop au 30101'" in miswritten


def test_phone_problems_nest_their_advice_and_reason_in_french() -> None:
    not_a_number = problem_of(lambda: parse_phone("abc", "FR"), "recipients")
    assert FR.gettext(not_a_number) == (
        "« abc » n'est pas un numéro de téléphone ; "
        "écrivez-le comme +33612345678 ou au format national FR"
    )
    too_short = problem_of(lambda: parse_phone("+33 6 12", "FR"), "recipients")
    assert FR.gettext(too_short) == (
        "« +33 6 12 » n'est pas un numéro de téléphone valide (trop court) ; "
        "écrivez-le comme +33612345678 ou au format national FR"
    )
    assert FR.gettext(write_as("ZZ")) == (
        "au format international, par exemple +33612345678"
    )
    assert str(too_short) == (
        "'+33 6 12' is not a valid phone number (too short); "
        "write it as +33612345678 or in FR national form"
    )


def test_several_bad_numbers_and_resolver_problems_are_translated_part_by_part() -> (
    None
):
    def resolve(token: str) -> list[str] | None:
        if token == "<@UBOB>":
            raise InputError("recipients", "<@UBOB> has no phone (not marked)")
        return {"empty": [], "bad": ["06 12"]}.get(token)

    problem = problem_of(
        lambda: resolve_recipients(
            ["xyz", "123", "empty", "bad"], region="FR", resolve=resolve
        ),
        "recipients",
    )
    assert FR.gettext(problem) == (
        "Ce ne sont pas des numéros de téléphone : « xyz », « 123 » ; "
        "écrivez les numéros comme +33612345678 ou au format national FR ; "
        "« empty » n'a pas de numéro de téléphone auquel envoyer ; "
        "« bad » a le numéro « 06 12 », qui n'est pas valide"
    )


def test_an_unknown_name_and_no_recipient_at_all_are_french() -> None:
    unknown = problem_of(
        lambda: resolve_recipients(["alic"], region="FR", resolve=lambda _: None),
        "recipients",
    )
    assert FR.gettext(unknown) == (
        "« alic » n'est ni un numéro de téléphone ni un nom connu ; "
        "écrivez les numéros comme +33612345678 ou au format national FR"
    )
    single_bad = problem_of(
        lambda: resolve_recipients(["12"], region="US"), "recipients"
    )
    assert FR.gettext(single_bad).startswith("« 12 » n'est pas un numéro de téléphone")
    nobody = problem_of(lambda: resolve_recipients([" "], region="FR"), "recipients")
    assert FR.gettext(nobody) == (
        "Indiquez au moins un destinataire, par exemple +33612345678"
    )


def test_validate_draft_keeps_every_field_problem_translatable() -> None:
    draft = SendDraft(
        recipients=("abc",),
        text="Soldes",
        sender="Way too long a name",
        purpose=Purpose.WHOLESALE,
        send_at=datetime(2026, 12, 2, 9, 0),
    )
    with pytest.raises(InputError) as caught:
        validate_draft(draft, defaults=SendDefaults(), now=NOW)
    french = {field: FR.gettext(text) for field, text in caught.value.problems.items()}
    assert french["recipients"].startswith("« abc » n'est pas un numéro")
    assert french["text"].startswith("Les messages marketing (objet wholesale)")
    assert french["sender"].startswith("L'expéditeur « Way too long a name » fait 19")
    assert french["send_at"].startswith("L'heure d'envoi 2026-12-02T09:00:00 doit")
    whole = FR.gettext(caught.value.message)
    assert "« abc » n'est pas un numéro" in whole and "L'expéditeur" in whole
    assert "is not a phone number" not in whole


def test_two_problems_on_one_field_are_both_french() -> None:
    draft = SendDraft(recipients=("+33612345678",), text="x" * (MAX_TEXT_LENGTH + 3))
    defaults = SendDefaults()
    with pytest.raises(InputError) as caught:
        validate_draft(
            draft.model_copy(update={"purpose": Purpose.WHOLESALE}),
            defaults=defaults,
            now=NOW,
        )
    french = FR.gettext(caught.value.problems["text"])
    assert "retirez donc 3 caractères" in french
    assert "doivent contenir « STOP au 30101 »" in french
    assert "so remove" not in french and "Marketing messages" not in french


# Through the HTTP surface: /sms and the form, French for U1, English for U2


def test_an_invalid_number_in_sms_is_refused_in_french_and_english(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    french = all_text(harness.command("06 12 Disque plein").json())
    assert "« 06 12 » n'est pas un numéro de téléphone valide" in french
    assert "is not a valid phone number" not in french
    english = all_text(harness.command("06 12 Disk full", user="U2").json())
    assert "'06 12' is not a valid phone number" in english
    assert "n'est pas un numéro" not in english


def test_several_bad_numbers_in_sms_are_listed_in_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    french = all_text(harness.command("06 12, 07 99 Disque plein").json())
    assert "Ce ne sont pas des numéros de téléphone : « 06 12 », « 07 99 »" in french
    assert "au format national FR" in french
    assert "Not phone numbers" not in french
    english = all_text(harness.command("06 12, 07 99 Disk full", user="U2").json())
    assert "Not phone numbers: '06 12', '07 99'" in english


def test_a_too_long_text_in_sms_is_refused_in_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    text = "a" * (MAX_TEXT_LENGTH + 1)
    french = all_text(harness.command(f"+33612345678 {text}").json())
    assert f"la limite est de {MAX_TEXT_LENGTH}, retirez donc 1 caractère" in french
    assert "so remove" not in french
    english = all_text(harness.command(f"+33612345678 {text}", user="U2").json())
    assert f"the limit is {MAX_TEXT_LENGTH}, so remove 1" in english


def test_a_bad_sender_in_the_form_is_french_under_its_field(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    french = harness.interact(submission(state(sender="Café-Bar"))).json()
    assert french["response_action"] == "errors"
    assert french["errors"][ids.SENDER_BLOCK].startswith(
        "L'expéditeur « Café-Bar » contient « é », « - »"
    )
    english = harness.interact(as_user("U2", submission(state(sender="Café-Bar"))))
    assert english.json()["errors"][ids.SENDER_BLOCK].startswith(
        "The sender 'Café-Bar' contains 'é', '-'; "
    )


def test_form_field_errors_are_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    body = harness.interact(
        submission(state(recipients="abc, 06 12", text="a" * (MAX_TEXT_LENGTH + 5)))
    ).json()
    errors = body["errors"]
    assert errors[ids.RECIPIENTS_BLOCK].startswith(
        "Ce ne sont pas des numéros de téléphone : « abc », « 06 12 »"
    )
    assert errors[ids.TEXT_BLOCK].endswith("retirez donc 5 caractères")
    assert "Not phone numbers" not in all_text(body)


def test_a_mention_without_a_phone_is_refused_in_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    harness.command("<@UBOB|bob> bonjour")
    (reply,) = harness.webhooks()
    text = all_text(reply)
    assert "Bob n'a pas de numéro de téléphone dans son profil Slack" in text
    assert "has no phone number" not in text
    harness.command("<@UBOB|bob> hello", user="U2", trigger="trigger-2")
    _, english = harness.webhooks(2)
    assert "Bob has no phone number in their Slack profile" in all_text(english)


def test_a_picked_person_without_a_phone_refills_the_form_in_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    form = submission(state(recipients=None, people=["UBOB"], text="Disque plein"))
    form["view"]["blocks"] = opened_form_blocks(harness)
    assert harness.interact(form).json()["response_action"] == "update"
    (update,) = harness.slack.wait_for("views.update")
    problems = next(
        block
        for block in as_dict(update.args["view"])["blocks"]
        if block.get("block_id") == ids.PROBLEMS_BLOCK
    )
    text = all_text(problems)
    assert "Bob n'a pas de numéro de téléphone dans son profil Slack" in text
    assert "has no phone number" not in text


def as_user(user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` submitted by ``user_id`` instead of U1."""
    payload["user"] = {**payload["user"], "id": user_id}
    return payload


@pytest.mark.parametrize(
    ("recipients", "french", "english"),
    [
        (
            "<!subteam^S1|@team>",
            "Personne dans &lt;!subteam^S1|@team&gt; ne peut recevoir de SMS : ",
            "can be texted",
        ),
        (
            "<!subteam^S9|@ghosts>",
            "Impossible de lister les membres de &lt;!subteam^S9|@ghosts&gt; "
            "(no_such_subteam)",
            "Could not list the members",
        ),
        (
            "<@UNOBODY|nobody>",
            "Impossible de lire le profil Slack de UNOBODY (user_not_found)",
            "Could not read the Slack profile",
        ),
    ],
)
def test_slack_lookup_problems_are_french(
    french_user: Callable[..., SlackHarness],
    recipients: str,
    french: str,
    english: str,
) -> None:
    harness = french_user()
    harness.slack.state.usergroups = {"S1": ["UBOB"]}
    harness.command(f"{recipients} Disque plein")
    (reply,) = harness.webhooks()
    assert french in all_text(reply)
    assert english not in all_text(reply)


# The SMS count line, the CLI's request id and what failed after the send


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [
        ("", "Message vide : 0 SMS", "Empty message: 0 SMS"),
        ("a", "GSM-7, 1 caractère : 1 SMS par destinataire", "GSM-7, 1 character:"),
        (
            "a" * 172,
            "GSM-7, 172 caractères : 2 SMS par destinataire",
            "GSM-7, 172 characters: 2 SMS per recipient",
        ),
        (
            "âêîôûœç",
            "Unicode à cause de 'â', 'ê', 'î', 'ô', 'û' et 2 autres, 7 caractères : "
            "1 SMS par destinataire",
            "Unicode because of 'â', 'ê', 'î', 'ô', 'û' and 2 more, 7 characters",
        ),
        (
            "âêîôûœ",
            "Unicode à cause de 'â', 'ê', 'î', 'ô', 'û' et 1 autre, 6 caractères : "
            "1 SMS par destinataire",
            "and 1 more, 6 characters",
        ),
    ],
)
def test_the_sms_count_line_is_french_with_its_plurals(
    text: str, french: str, english: str
) -> None:
    line = describe(analyse(text))
    assert FR.gettext(line) == french
    assert english in line


def test_a_too_long_request_id_is_french_in_the_cli(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    result = run(
        ["send", "--to", "+33612345678", "--request-id", "x" * 129, "bonjour"],
        env,
        tmp_path,
    )
    assert result.returncode == 2
    assert "request_id: fait 129 caractères ; 128 au maximum" in result.stderr
    assert "characters long" not in result.stderr


def test_an_audit_failure_after_the_send_is_said_in_french_in_a_french_workspace(
    make_harness: Callable[..., SlackHarness],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(language="fr")

    def database_down(record_id: int, result: object) -> None:
        raise AuditStoreError("audit store could not complete an attempt")

    monkeypatch.setattr(harness.store, "complete", database_down)
    harness.command("+33612345678 db-1 en panne")
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = all_text(post.args)
    assert (
        "l'enregistrement d'audit n°1 n'a pas pu être complété (AuditStoreError) ; "
        "il reste en attente"
    ) in text
    assert "could not be completed" not in text


def test_bad_input_to_the_cli_send_is_french_field_by_field(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    env["LANG"] = "fr_FR.UTF-8"
    result = run(
        ["send", "--to", "abc", "--to", "06 12", "--sender", "Café-Bar", "Promo"],
        env,
        tmp_path,
    )
    assert result.returncode == 2
    assert (
        "sms-bot: recipients: Ce ne sont pas des numéros de téléphone : "
        "« abc », « 06 12 » ; écrivez les numéros comme +33612345678 ou au format "
        "national FR"
    ) in result.stderr
    assert "sms-bot: sender: L'expéditeur « Café-Bar » contient « é », « - »" in (
        result.stderr
    )
    assert "Not phone numbers" not in result.stderr
    assert httpserver.log == []
    env["LANG"] = "en_US.UTF-8"
    english = run(["send", "--to", "abc", "Promo"], env, tmp_path)
    assert "sms-bot: recipients: 'abc' is not a phone number or a known name" in (
        english.stderr
    )
