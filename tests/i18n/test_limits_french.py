"""The admin's limits, partial and unknown sends, recovery and fallbacks, in French.

Refusals and send notes are made deep in the bot, where the reader is unknown: they
stay English (logs, audit trail) and each surface shows them in its reader's language.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError
from werkzeug import Request, Response

from bot.audit import AttemptResult, AuditStore, NewAttempt
from bot.domain import (
    Actor,
    AuditStatus,
    Purpose,
    RateLimit,
    SendDraft,
    SendOutcome,
    SendRequest,
    SmsType,
    Source,
)
from bot.errors import PolicyError
from bot.i18n import N_, load_translations, set_default_language, translator
from bot.i18n.octopush_hints import octopush_message
from bot.octopush import OctopushClient
from bot.octopush.answers import Answer, raise_for_response
from bot.octopush.errors import (
    OctopushBatchError,
    OctopushConnectionError,
    OctopushError,
    OctopushValidationError,
)
from bot.runtime.housekeeping import Housekeeping
from bot.sending.credit import LowCreditWatch
from bot.sending.delivery import (
    ALREADY_SENT_NOTE,
    RESENT_NOTE,
    Delivered,
    campaign_for,
    deliver,
    recovered,
    resend_result,
    unknown_result,
)
from bot.sending.gateway import gateway_error_text
from bot.sending.outcomes import maybe_sent, outcome_from_record
from bot.sending.policy import (
    Policy,
    Usage,
    check_actor,
    check_limits,
    check_recipients,
)
from bot.sending.stored_notes import reread
from bot.slack import ids
from bot.slack.posting import ResultPoster
from bot.slack.views.messages import build_result_message
from tests.cli.test_main import SEND_PATH, run
from tests.conftest import OCTOPUSH_KEY, SENT, SlackHarness, wait_for_requests
from tests.i18n.test_slack_french import french_user as french_user
from tests.slack.listeners.test_commands import all_text, finished
from tests.slack.listeners.test_forms import state, submission

FR = translator("fr")
EN = translator("en")
SLACK = Actor(
    source=Source.SLASH, slack_team_id="T1", slack_user_id="U1", slack_channel_id="C1"
)
FrenchUser = Callable[..., SlackHarness]


def request(*numbers: str) -> SendRequest:
    return SendRequest(
        recipients=numbers or ("+33612345678",),
        text="hello",
        sender=None,
        sms_type=SmsType.PREMIUM,
        purpose=Purpose.ALERT,
    )


def refusal(call: Callable[[], None]) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        call()
    return caught.value


# -- the admin's rules, one by one ---------------------------------------------------


def test_who_and_where_refusals_are_french_and_stay_english() -> None:
    channels = refusal(
        lambda: check_actor(Policy(allowed_channels=frozenset({"C9"})), SLACK)
    )
    shown = FR.gettext(channels.message)
    assert shown.startswith(
        "L'envoi de SMS n'est pas autorisé depuis cette conversation."
    )
    assert "SMS_" not in shown  # a sender never reads a setting name
    assert channels.message == (
        "Sending SMS is not allowed from this conversation. "
        "Ask an admin, or send from a channel where SMS are allowed."
    )
    assert channels.rule == "SMS_ALLOWED_CHANNELS"  # the audit trail and CLI keep it
    users = refusal(lambda: check_actor(Policy(allowed_users=frozenset({"U2"})), SLACK))
    assert "Vous n'êtes pas autorisé à envoyer des SMS" in FR.gettext(users.message)
    assert "SMS_" not in FR.gettext(users.message)
    assert users.message.startswith("You are not allowed to send SMS with this app.")


def test_too_many_recipients_counts_in_french_plurals() -> None:
    numbers = ("+33612345678", "+33698765432", "+33611111111")
    error = refusal(
        lambda: check_recipients(Policy(max_recipients=2), request(*numbers))
    )
    shown = FR.gettext(error.message)
    assert shown.startswith(
        "Cet envoi a 3 destinataires ; la limite est de 2 par envoi"
    )
    assert "Divisez-le" in shown and "SMS_" not in shown
    assert (
        EN.gettext(error.message)
        == str(error.message)
        == (
            "This send has 3 recipients; the limit is 2 per send. "
            "Split it, or ask an admin to raise the limit."
        )
    )
    one = refusal(lambda: check_recipients(Policy(max_recipients=0), request()))
    assert "Cet envoi a 1 destinataire ;" in FR.gettext(one.message)


def test_blocked_and_opted_out_numbers_agree_with_their_count() -> None:
    policy = Policy(blocked=("+3389",))
    one = refusal(lambda: check_recipients(policy, request("+33899123456")))
    assert "ne doit jamais recevoir de SMS" in FR.gettext(one.message)
    assert "SMS_" not in FR.gettext(one.message)
    assert "Retirez-le et renvoyez." in FR.gettext(one.message)
    assert "may never be texted" in one.message
    many = [f"+336120000{n:02d}" for n in range(7)]
    opted = refusal(lambda: check_recipients(Policy(), request(), opted_out=many))
    shown = FR.gettext(opted.message)
    assert "et 2 autres ont répondu STOP" in shown
    assert "`sms-bot optout remove NUMBER`" in shown  # a command is never translated
    assert "replied STOP" not in shown
    assert " and 2 more replied STOP" in opted.message


def test_rate_limit_says_when_to_try_again_in_french() -> None:
    policy = Policy(rate=RateLimit.parse("3/hour"))
    started = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
    error = refusal(
        lambda: check_limits(
            policy, request(), SLACK, Usage(sends_in_window=3, window_started=started)
        )
    )
    assert FR.gettext(error.message) == (
        "Vous avez atteint la limite d'envois (3/heure). "
        "Vous pourrez envoyer à nouveau après 15:05 UTC."
    )
    assert error.message == (
        "You have reached the limit of 3/hour sends. "
        "You can send again after 15:05 UTC."
    )


def test_escalation_cap_and_daily_budget_write_amounts_the_french_way() -> None:
    escalation = Actor(source=Source.ESCALATION)
    cap = refusal(
        lambda: check_limits(
            Policy(escalation_rate=RateLimit.parse("5/hour")),
            request(),
            escalation,
            Usage(escalations_in_window=5),
        )
    )
    assert "Le plafond d'escalade de 5/heure envois système" in FR.gettext(cap.message)
    budget = refusal(
        lambda: check_limits(
            Policy(daily_budget=2.5),
            request(),
            SLACK,
            Usage(spent_today=1.5, estimated_cost=1.25),
        )
    )
    shown = FR.gettext(budget.message)
    assert "1,50 crédits dépensés aujourd'hui sur 2,5" in shown
    assert "cet envoi coûterait environ 1,25" in shown
    assert "daily SMS budget" not in shown
    assert "SMS_" not in shown and "SMS_" not in FR.gettext(cap.message)
    assert budget.message == (
        "The daily SMS budget is used up (1.50 of 2.5 credits spent today; this send "
        "would cost about 1.25). It resets at midnight UTC; an admin can raise it."
    )


# -- partial, unknown and recovered sends --------------------------------------------


def test_gateway_errors_the_client_wrote_are_french_and_octopushs_own_words_stay() -> (
    None
):
    timeout = OctopushConnectionError.from_urllib3(
        ReadTimeoutError(None, "/", "slow"),  # type: ignore[arg-type]
        request_id="r1",
        sends=True,
        timeout=(0.5, 2.5),
    )
    said = octopush_message(timeout)
    assert said == timeout.message == "Octopush did not answer within 2.5 s"
    assert FR.gettext(said) == "Octopush n'a pas répondu dans les 2,5 s"
    connecting = OctopushConnectionError.from_urllib3(
        ConnectTimeoutError(), request_id=None, sends=True, timeout=(0.5, 2.5)
    )
    assert FR.gettext(octopush_message(connecting)) == (
        "délai dépassé pour se connecter à Octopush (après 0,5 s)"
    )
    octopush_said = OctopushValidationError("Route congested", code="153")
    batch = OctopushBatchError(octopush_said, completed=[], total_batches=3)
    shown = FR.gettext(gateway_error_text(batch))
    assert shown == (
        "[153] le lot 1 sur 3 a échoué après l'envoi de 0 lot : Route congested"
    )
    assert str(batch) == "[153] batch 1 of 3 failed after 0 batches had been sent: " + (
        "Route congested"
    )


def test_recovery_notes_are_french_and_english_in_the_audit() -> None:
    unknown = unknown_result(N_("too old to resend safely"))
    assert unknown.error_message is not None
    assert FR.gettext(unknown.error_message) == (
        "résultat inconnu : le processus s'est arrêté pendant l'envoi et trop "
        "ancienne pour être renvoyée sans risque ; vérifiez le tableau de bord "
        "Octopush avant d'envoyer à nouveau"
    )
    assert unknown.model_dump()["error_message"] == (
        "outcome unknown: the process stopped during the send and too old to resend "
        "safely; check the Octopush dashboard before sending again"
    )
    assert FR.gettext(recovered(RESENT_NOTE)) == (
        "reprise après un plantage : envoyé lors de la reprise après un plantage "
        "(la première tentative n'avait jamais atteint Octopush)"
    )


def test_a_partly_sent_batch_reads_french_in_its_result(
    make_harness: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    answers = iter([(201, SENT), (400, {"code": 153, "message": "Route congested"})])

    def octopush(request: Request) -> Response:
        status, body = next(answers)
        return Response(
            json.dumps(body), status=status, content_type="application/json"
        )

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(octopush)
    harness = make_harness(language="fr", max_recipients="1000")
    numbers = tuple(f"+33612{n:06d}" for n in range(501))  # two batches: 500 and 1
    outcome = harness.service.send(
        SendDraft(recipients=numbers, text="db-1 en panne"), Actor(source=Source.CLI)
    )
    post = all_text(build_result_message(outcome, user_id="U1", tr=FR))
    assert "SMS partiellement envoyé" in post
    assert "le lot 2 sur 2 a échoué après l'envoi de 1 lot : Route congested" in post
    assert "Les destinataires 1 à 500 sur 501 ont reçu l'envoi (lot 1)" in post
    assert "Recipients 1 to" not in post
    record = harness.store.get(outcome.audit_id)
    assert record.error_message is not None
    assert "Recipients 1 to 500 of 501 were sent (batch 1)" in record.error_message
    # A delivery receipt re-renders the post from the (English) audit record.
    again = all_text(build_result_message(outcome_from_record(record), user_id="U1"))
    assert "Les destinataires 1 à 500 sur 501 ont reçu l'envoi (lot 1)" in again
    assert "Recipients 1 to" not in again


def notes_written_by_the_real_code() -> list[str]:
    """One note of each shape, made the way sends, resends and recovery make them."""
    read_timeout = OctopushConnectionError.from_urllib3(
        ReadTimeoutError(None, "/", "slow"),  # type: ignore[arg-type]
        request_id="r1",
        sends=True,
        timeout=(0.5, 2.5),
    )
    connect_timeout = OctopushConnectionError.from_urllib3(
        ConnectTimeoutError(), request_id="r1", sends=True, timeout=(0.5, 2.5)
    )
    broke = OctopushConnectionError.from_urllib3(
        ProtocolError("reset by peer"),
        request_id="r1",
        sends=True,
        timeout=(0.5, 2.5),
    )
    stopped = OctopushBatchError(read_timeout, completed=[], total_batches=3)

    def answer(status: int, body: bytes) -> OctopushError:
        response = Answer("POST", status, {}, body)
        with pytest.raises(OctopushError) as caught:
            raise_for_response(response, "r1", True, lambda text: text)
        return caught.value

    class Crashing:
        def send_sms_campaign(self, campaign: object) -> None:
            raise RuntimeError("bug")

    crashed = deliver(
        Crashing(),  # type: ignore[arg-type]
        campaign_for(request(), "r1"),
        audit_id=1,
    )
    unknown = resend_result(
        Delivered(
            AttemptResult(status=AuditStatus.FAILED, error_message="x"),
            error=read_timeout,
        )
    )
    notes = [
        octopush_message(read_timeout),
        octopush_message(connect_timeout),
        octopush_message(broke),
        maybe_sent(octopush_message(stopped)),
        octopush_message(answer(502, b"")),
        octopush_message(answer(502, b"<html>oops</html>")),
        octopush_message(answer(400, b'{"code": 120}')),
        crashed.result.error_message,
        unknown.error_message,
        unknown_result(
            N_("its text was redacted, so it cannot be resent")
        ).error_message,
        recovered(ALREADY_SENT_NOTE),
        RESENT_NOTE,
    ]
    return [note for note in notes if note is not None]


def test_notes_read_back_from_the_audit_trail_are_french_again() -> None:
    notes = notes_written_by_the_real_code()
    assert len(notes) == 12
    for note in notes:
        stored = str(note)  # what the audit store keeps
        again = reread(stored)
        assert again == stored
        assert FR.gettext(again) == FR.gettext(note) != stored, stored
    said = "Route congested (code 153)"  # Octopush's own words stay as they came
    assert FR.gettext(reread(said) or "") == said


def test_an_unknown_outcome_is_posted_in_french_with_sms_language_fr(
    make_harness: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(SENT), status=201, content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(slow)
    harness = make_harness(language="fr")
    harness.service.octopush.close()
    harness.service.octopush = OctopushClient(
        api_login="ops@example.com",
        api_key=OCTOPUSH_KEY,
        base_url=httpserver.url_for("/v1/public"),
        timeout=(0.5, 0.2),
        max_retries=0,
        backoff=0,
    )
    harness.command("+33612345678 Serveur db-1 en panne")
    (post,) = harness.slack.wait_for("chat.postMessage")
    wait_for_requests(httpserver, 1)  # the test server finishes the abandoned answer
    text = all_text(post.args)
    assert "SMS non envoyé" in text and "SMS not sent" not in text
    assert "Octopush n'a pas répondu dans les 0,2 s" in text
    assert "Octopush l'a peut-être reçu : vérifiez son tableau de bord" in text
    assert "did not answer within" not in text
    (record,) = finished(harness)
    assert record.error_message is not None
    assert "Octopush did not answer within 0.2 s" in record.error_message


def test_cli_audit_recover_prints_french_under_a_french_locale(
    httpserver: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        {"code": 120, "message": "duplicate request_id"}, status=400
    )
    store = AuditStore.from_url(env["DATABASE_URL"])
    for minutes, request_id in ((3, "crashed-recent"), (30, "crashed-old")):
        store._clock = lambda minutes=minutes: (  # type: ignore[method-assign]
            datetime.now(UTC) - timedelta(minutes=minutes)
        )
        store.begin(
            NewAttempt(
                source=Source.CLI,
                recipients=("+33612345678",),
                text="hello",
                sms_type="sms_premium",
                purpose="alert",
                simulation=False,
                request_id=request_id,
            )
        )
    store.close()
    env["LANG"] = "fr_FR.UTF-8"
    result = run(["audit", "recover"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "était resté en attente après un plantage" in out
    assert "reprise après un plantage : Octopush avait déjà cette requête" in out
    assert "trop ancienne pour être renvoyée sans risque" in out
    assert "2 tentatives en attente réglées" in out
    assert "left pending by a crash" not in out and "too old" not in out


# -- notices and fallbacks -----------------------------------------------------------


def test_low_credit_and_housekeeping_notices_follow_the_workspace_language(
    store: AuditStore,
) -> None:
    said: list[str] = []
    watch = LowCreditWatch(
        store=store, threshold=20, announce=said.append, language="fr"
    )
    sent = SendOutcome(
        audit_id=1,
        request_id="r",
        status=AuditStatus.SENT,
        request=request(),
        residual_credit=12.5,
    )
    watch(sent)
    (notice,) = said
    assert "Le crédit Octopush est bas : il reste *12,50\xa0€*" in notice
    assert "(SMS_LOW_CREDIT vaut 20)" in notice
    assert "credit is low" not in notice

    set_default_language("fr")  # what build_stack does with SMS_LANGUAGE=fr
    posts: list[str] = []
    keeper = Housekeeping(store, retention_days=30, announce=posts.append)
    store.begin(
        NewAttempt(
            source=Source.CLI,
            recipients=("+33612345678",),
            text="old",
            sms_type="sms_premium",
            purpose="alert",
            simulation=False,
            request_id="old-1",
        )
    )
    store._clock = lambda: datetime.now(UTC) + timedelta(days=40)  # type: ignore[method-assign]
    keeper._clock = store._clock
    assert keeper.run_once() == 1
    assert posts == [
        "🧹 Entretien : 1 enregistrement d'audit de plus de 30 jours supprimé "
        "(SMS_AUDIT_RETENTION_DAYS)."
    ]


def test_the_private_fallbacks_use_the_readers_language() -> None:
    class NoChannel:
        """A Slack client whose channel posts fail and whose ephemerals are kept."""

        def __init__(self) -> None:
            self.ephemerals: list[dict[str, Any]] = []

        def chat_postMessage(self, **_: Any) -> None:  # noqa: N802 (Slack's name)
            raise TimeoutError

        def chat_postEphemeral(self, **message: Any) -> None:  # noqa: N802
            self.ephemerals.append(message)

    client = NoChannel()
    poster = ResultPoster(
        client,  # type: ignore[arg-type]
        lambda *_a, **_k: None,
        reader=lambda user: translator("fr" if user == "U1" else "en"),
    )
    assert poster.post({"text": "SMS envoyé"}, channel_id="C1", user_id="U1").where == (
        "private"
    )
    outcome = SendOutcome(
        audit_id=7,
        request_id="r",
        status=AuditStatus.SENT,
        request=request(),
        sms_ticket="sms_1",
    )
    with poster.after_send(outcome, user_id="U1", channel_id="C1"):
        raise ConnectionError
    with poster.after_send(outcome, user_id="U2", channel_id="C1"):
        raise ConnectionError
    french, after, english = (note["text"] for note in client.ephemerals)
    assert french == (
        "Je n'ai pas pu publier ceci dans le canal (TimeoutError) ; le voici pour "
        "vous. SMS envoyé"
    )
    assert after == (
        "✅ Le SMS est parti (ticket `sms_1`, audit n°7), mais la publication du "
        "résultat a échoué (ConnectionError). Ne le renvoyez pas sans vérifier."
    )
    assert english == (
        "✅ The SMS went out (ticket `sms_1`, audit #7), but posting the result failed "
        "(ConnectionError). Do not send it again without checking."
    )


# -- through the HTTP surface, for a French Slack user -------------------------------


def test_too_many_recipients_is_refused_in_french_in_the_ack_and_the_form(
    french_user: FrenchUser, httpserver: HTTPServer
) -> None:
    harness = french_user(max_recipients="1")
    ack = harness.command("+33612345678, +33698765432 Bonjour").json()
    text = all_text(ack)
    assert ack["response_type"] == "ephemeral"
    assert "Cet envoi a 2 destinataires ; la limite est de 1 par envoi" in text
    assert "This send has" not in text
    body = harness.interact(
        submission(state(recipients="+33612345678, +33698765432"))
    ).json()
    assert body["response_action"] == "errors"
    error = body["errors"][ids.RECIPIENTS_BLOCK]
    assert "la limite est de 1 par envoi" in error and "limit is" not in error
    assert httpserver.log == []


def test_a_user_not_allowed_is_refused_in_french(
    french_user: FrenchUser, httpserver: HTTPServer
) -> None:
    harness = french_user(allowed_users="U2")
    text = all_text(harness.command("+33612345678 Bonjour").json())
    assert "Vous n'êtes pas autorisé à envoyer des SMS avec cette application" in text
    assert "not allowed to send SMS" not in text
    english = all_text(harness.command("+33612345678 Hello", user="U3").json())
    assert "You are not allowed to send SMS with this app" in english


def test_the_rate_limit_reaches_a_french_reader_in_french(
    french_user: FrenchUser, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = french_user(rate_limit="1/hour")
    harness.command("+33612345678 un", trigger="a")
    harness.slack.wait_for("chat.postMessage")
    harness.command("+33612345678 deux", trigger="b")
    (reply,) = harness.webhooks()
    text = all_text(reply)
    assert "Vous avez atteint la limite d'envois (1/heure)" in text
    assert "SMS_RATE_LIMIT" not in text
    assert "Vous pourrez envoyer à nouveau après" in text
    assert "You have reached" not in text
    assert len(httpserver.log) == 1


def test_every_shape_reread_knows_is_a_translated_message() -> None:
    from bot.sending import stored_notes

    catalog = load_translations("fr")
    for template in stored_notes._TEMPLATES:
        assert catalog.gettext(template) != template, template
    for singular, plural in stored_notes._PLURALS:
        assert catalog.ngettext(singular, plural, 2) != plural, plural


def test_a_post_the_channel_refused_reaches_a_french_sender_in_french(
    french_user: FrenchUser, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    harness = french_user()
    harness.slack.state.failures["chat.postMessage"] = "channel_not_found"
    harness.slack.state.webhook_status = 404
    harness.command("+33612345678 Bonjour", channel="GPRIVATE")
    (note,) = harness.slack.wait_for("chat.postEphemeral")
    text = all_text(note.args)
    assert note.args["user"] == "U1"
    assert "Je n'ai pas pu publier ceci dans le canal (channel_not_found)" in text
    assert "could not post this" not in text


def test_cli_send_that_cannot_reach_octopush_says_so_in_french(
    env: dict[str, str], tmp_path: Path
) -> None:
    env.update(LANG="fr_FR.UTF-8", OCTOPUSH_BASE_URL="http://127.0.0.1:9/v1/public")
    result = run(["send", "--to", "+33612345678", "Bonjour"], env, tmp_path)
    assert result.returncode == 1
    assert "impossible de se connecter à Octopush" in result.stderr
    assert "could not connect" not in result.stderr


@pytest.mark.parametrize("command", [["balance"], ["check"]])
def test_cli_balance_and_check_that_cannot_reach_octopush_say_so_in_french(
    env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    env.update(LANG="fr_FR.UTF-8", OCTOPUSH_BASE_URL="http://127.0.0.1:9/v1/public")
    result = run(command, env, tmp_path)
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "impossible de se connecter à Octopush" in said
    assert "could not connect" not in said
