"""The Slack builders in French: posts, refusals, help, history, estimates, plurals."""

from __future__ import annotations

from bot.errors import InputError, PolicyError
from bot.i18n import translator
from bot.octopush import codes
from bot.slack.views.command_questions import (
    build_confirm_prompt,
    build_sending_message,
    describe_estimate,
)
from bot.slack.views.command_replies import (
    build_balance_message,
    build_help_message,
)
from bot.slack.views.messages import build_rejection_message, build_result_message
from tests.slack.views.test_messages import everything, failed, outcome

FR = translator("fr")


def test_a_sent_post_in_french_has_french_words_and_money() -> None:
    post = build_result_message(outcome(), user_id="U1", tr=FR)
    text = everything(post)
    assert post["text"] == "✅ SMS envoyé (audit n°42)"
    for words in (
        "*Coût*\n0,2664\xa0€",
        "*Crédit restant*\n99,50\xa0€",
        "*SMS par destinataire*\n2 (8 en tout)",
        "*Envoyé par*\n<@U1>",
        "*Destinataires (4):*",
        "audit n°42",
    ):
        assert words in text
    # The text someone typed is never translated.
    assert "> Server db-1 is down" in text


def test_a_failed_post_quotes_octopush_and_gives_the_french_hint() -> None:
    post = build_result_message(
        failed(error_hint=codes.hint_for("106")), user_id="U1", tr=FR
    )
    text = everything(post)
    assert "❌ *SMS non envoyé*" in text
    assert "*Octopush a répondu :* Invalid sender" in text
    assert (
        "*Que faire :* Octopush a refusé le nom d'expéditeur. Utilisez de 3 à 11"
        in text
    )


def test_refusals_name_the_field_in_french() -> None:
    refusal = InputError("sender", "The sender is too long")
    refusal.audit_id = 7
    text = everything(build_rejection_message(refusal, FR))
    assert "🚫 *Rien n'a été envoyé.* Corrigez ceci et réessayez :" in text
    assert "• *Expéditeur*: The sender is too long" in text
    assert "audit n°7" in text
    policy = everything(build_rejection_message(PolicyError("SMS_RATE_LIMIT", "x"), FR))
    assert "une règle fixée par vos administrateurs l'a refusé." in policy


def test_help_is_french_and_keeps_the_commands() -> None:
    help_text = everything(build_help_message(FR))
    assert "📱 *Envoyer des SMS depuis Slack*" in help_text
    assert "*`/sms balance`* : le crédit Octopush restant" in help_text
    assert "/sms help" in build_help_message(FR)["text"]


def test_counts_use_french_plurals() -> None:
    assert describe_estimate(recipients=1, parts=3, cost=0.1, tr=FR) == (
        "1 destinataire × 3 SMS = 3 SMS, environ 0,10\xa0€"
    )
    assert describe_estimate(recipients=12, parts=2, tr=FR) == (
        "12 destinataires × 2 SMS = 24 SMS"
    )
    prompt = build_confirm_prompt(value="v", estimate="e", limit=20, tr=FR)
    buttons = [e["text"]["text"] for e in prompt["blocks"][1]["elements"]]
    assert buttons == ["Envoyer", "Annuler"]
    sending = build_sending_message([f"+3361234567{i}" for i in range(12)], FR)
    assert sending["text"].startswith("📤 Envoi à ")
    assert sending["text"].endswith(" et 2 autres…")


class Balance:
    amount = 12.54
    unit = "euros"


def test_balance_is_money_the_readers_way() -> None:
    assert build_balance_message(Balance(), FR)["text"] == (
        "Crédit Octopush restant : 12,54\xa0€"
    )
    assert build_balance_message(Balance())["text"] == "Octopush credit left: €12.54"


def test_paging_posts_follow_the_translator() -> None:
    from datetime import UTC, datetime

    from bot.slack.views.page_messages import build_oncall_message

    empty = build_oncall_message([], at=datetime.now(UTC), tr=FR)
    assert empty["text"] == "Aucune rotation n'est définie"
    assert build_oncall_message([], at=datetime.now(UTC))["text"] == (
        "No rotation is defined"
    )
