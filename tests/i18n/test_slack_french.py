"""Through the HTTP surface: a French Slack user reads French; SMS_LANGUAGE sets posts.

The fake ``users.info`` / ``users.list`` answer the locale ``fr-FR`` for U1. Ephemeral
answers and the form follow their reader; channel posts follow ``SMS_LANGUAGE``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.slack import ids
from tests.conftest import SENT, SlackHarness
from tests.slack.listeners.test_commands import all_text, wait_until
from tests.slack.listeners.test_forms import opened_view, state, submission

SEND_PATH = "/v1/public/sms-campaign/send"
BALANCE_PATH = "/v1/public/wallet/check-balance"
MakeHarness = Callable[..., SlackHarness]


@pytest.fixture
def french_user(make_harness: MakeHarness) -> Callable[..., SlackHarness]:
    """The app as ``serve`` starts it, U1's Slack locale being fr-FR."""

    def make(**sms: Any) -> SlackHarness:
        harness = make_harness(**sms)
        harness.slack.state.locales = {"U1": "fr-FR", "U2": "en-US"}
        assert harness.stack.languages is not None
        harness.stack.languages.warm()  # what start_workers does when serve starts
        return harness

    return make


def test_help_and_refusals_in_the_ack_are_french(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    helped = harness.command("help").json()
    assert helped["response_type"] == "ephemeral"
    assert "Envoyer des SMS depuis Slack" in all_text(helped)
    refused = harness.command("+33612345678").json()  # no message
    assert "Rien n'a été envoyé" in all_text(refused)
    english = harness.command("help", user="U2").json()
    assert "Send SMS from Slack" in all_text(english)
    assert harness.slack.calls("users.info") == []  # acks never call Slack


def test_before_any_lookup_the_ack_uses_the_workspace_language_then_the_readers(
    make_harness: MakeHarness,
) -> None:
    harness = make_harness()
    harness.slack.state.locales = {"U1": "fr-FR"}
    first = harness.command("help", trigger="t-1").json()
    assert "Send SMS from Slack" in all_text(first)
    languages = harness.stack.languages
    assert languages is not None
    wait_until(lambda: languages.cached("U1") == "fr")  # the lazy listener asked Slack
    assert len(harness.slack.calls("users.info")) == 1
    second = harness.command("help", trigger="t-2").json()
    assert "Envoyer des SMS depuis Slack" in all_text(second)


def test_the_form_is_french_for_a_french_reader(
    french_user: Callable[..., SlackHarness],
) -> None:
    harness = french_user()
    harness.command("")
    view = opened_view(harness)
    assert view["title"]["text"] == "Envoyer un SMS"
    assert view["submit"]["text"] == "Envoyer"
    labels = [block["label"]["text"] for block in view["blocks"] if "label" in block]
    assert labels[:3] == [
        "Destinataires",
        "Personnes Slack (le téléphone de leur profil)",
        "Message",
    ]
    assert "Tapez un message" in all_text(view)


def test_form_errors_are_french(french_user: Callable[..., SlackHarness]) -> None:
    harness = french_user()
    harness.command("help")  # any interaction: U1 is known
    body = harness.interact(submission(state(recipients=None, text=None))).json()
    assert body["response_action"] == "errors"
    assert body["errors"][ids.TEXT_BLOCK] == "Écrivez le message à envoyer"
    assert body["errors"][ids.RECIPIENTS_BLOCK] == (
        "Ajoutez au moins un numéro de téléphone, un nom ou une personne"
    )


def test_the_channel_post_follows_sms_language_not_the_sender(
    french_user: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = french_user()
    ack = harness.command("+33612345678 Serveur db-1 en panne").json()
    assert ack["text"].startswith("📤 Envoi à ")
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = all_text(post.args)
    assert "SMS sent" in text and "€0.0333" in text  # SMS_LANGUAGE=en: for everyone
    assert "Serveur db-1 en panne" in text  # the typed text is never translated


def test_sms_language_fr_makes_posts_and_help_french(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(language="fr")
    helped = harness.command("help", user="U3").json()
    assert "Envoyer des SMS depuis Slack" in all_text(helped)
    harness.command("+33612345678 Disk full", user="U3")
    (post,) = harness.slack.wait_for("chat.postMessage")
    text = all_text(post.args)
    assert "SMS envoyé" in text
    assert "0,0333\\u00a0€" in json.dumps(post.args) or "0,0333\xa0€" in text
    assert "Disk full" in text


def test_a_lazy_answer_is_french(
    french_user: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    httpserver.expect_request(BALANCE_PATH, method="GET").respond_with_json(
        {"amount": 12.54, "unit": "euros"}
    )
    harness = french_user()
    harness.command("balance")
    (answer,) = harness.webhooks()
    assert answer["text"] == "Crédit Octopush restant : 12,54\xa0€"


def test_a_delivery_receipt_keeps_the_post_in_the_workspace_language(
    make_harness: MakeHarness, httpserver: HTTPServer
) -> None:
    from tests.slack.listeners.test_pages import posted, receipt

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = make_harness(language="fr")
    harness.command("+33612345678 disque plein")
    harness.slack.wait_for("chat.postMessage")
    posted(harness)
    harness.callback(receipt("sms_5fec89fe97109", "+33612345678", "DELIVERED"))
    (update,) = harness.slack.wait_for("chat.update")
    text = all_text(update.args)
    assert "SMS envoyé" in text and "SMS sent" not in text
    assert "disque plein" in text


def test_a_send_the_sender_runs_still_teaches_the_web_process_the_readers_language(
    make_harness: MakeHarness,
) -> None:
    """The send runs in the sender's process; the language lookup stays here, after
    the ack, so the next ack answers in the reader's language."""
    harness = make_harness(sender="external")
    harness.slack.state.locales = {"U1": "fr-FR"}
    first = harness.command("+33612345678 Disk full", trigger="t-1").json()
    assert "Sending to" in all_text(first)
    languages = harness.stack.languages
    assert languages is not None
    wait_until(lambda: languages.cached("U1") == "fr")
    second = harness.command("+33612345678 Disk full again", trigger="t-2").json()
    assert "Envoi" in all_text(second)
