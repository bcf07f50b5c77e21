"""Through the HTTP surface: on-call paging in French.

With ``SMS_LANGUAGE=fr`` the page post, its updates, the lines in its thread (replies,
STOP, escalations) and the channel and admin notices are French. Ephemeral answers
(``/sms oncall`` refusals, ``/sms page`` refusals, a second Acknowledge) follow their
reader's Slack locale: fr-FR for U1, en-US for U2.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.audit import OptOutList
from bot.audit.deliveries import Delivery
from bot.directory.model import Directory
from bot.domain import AuditStatus, SendOutcome
from bot.i18n import N_, N_plural, Number, translator
from bot.paging.overrides import no_such_rotation
from bot.paging.runs import Attempt
from bot.slack import ids
from bot.slack.views.page_messages import delivery_text
from tests.conftest import FakeClock, SlackHarness
from tests.paging.conftest import DIRECTORY, NUMBERS, FakeOctopush
from tests.slack.listeners.test_commands import all_text, finished, wait_until
from tests.slack.listeners.test_pages import SEND_PATH, button_value, receipt

MakeHarness = Callable[..., SlackHarness]
#: 21 people: one more than a post lists one by one, so it shows counts.
CROWD = {f"p{index:02d}": f"+336100000{index:02d}" for index in range(21)}


@pytest.fixture
def octopush(httpserver: HTTPServer) -> FakeOctopush:
    fake = FakeOctopush()
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(fake)
    return fake


@pytest.fixture
def directory_file(tmp_path: Path) -> Path:
    crowd_people = "".join(
        f'  {name}: {{phone: "{phone}"}}\n' for name, phone in CROWD.items()
    )
    people, groups = DIRECTORY.split("groups:\n")
    path = tmp_path / "directory.yml"
    path.write_text(
        people
        + crowd_people
        + "groups:\n"
        + groups
        + f"  crowd: {{members: [{', '.join(CROWD)}]}}\n"
    )
    return path


@pytest.fixture
def start(
    make_harness: MakeHarness,
    clock: FakeClock,
    directory_file: Path,
    octopush: FakeOctopush,
) -> Callable[..., SlackHarness]:
    """The app with the paging directory; U1 reads French, U2 English (Slack locales)."""

    def make(**sms: Any) -> SlackHarness:
        harness = make_harness(directory=str(directory_file), **sms)
        harness.stack.escalations.pager.clock = clock
        harness.slack.state.locales = {"U1": "fr-FR", "U2": "en-US"}
        assert harness.stack.languages is not None
        harness.stack.languages.warm()  # what start_workers does when serve starts
        return harness

    return make


def order(harness: SlackHarness) -> list[str]:
    return list(harness.stack.escalations.pager.plan("db-oncall").members)


def channel_posts(harness: SlackHarness, channel: str = "C1") -> list[str]:
    return [
        all_text(call.args)
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("channel") == channel and not call.args.get("thread_ts")
    ]


def thread_texts(harness: SlackHarness) -> list[str]:
    return [
        all_text(call.args)
        for call in harness.slack.calls("chat.postMessage")
        if call.args.get("thread_ts")
    ]


def updates(harness: SlackHarness) -> list[str]:
    return [all_text(call.args) for call in harness.slack.calls("chat.update")]


def page_posted(harness: SlackHarness) -> None:
    """Wait until page #1's post is remembered: callbacks find the post through it."""
    harness.slack.wait_for("chat.postMessage")
    pager = harness.stack.escalations.pager
    wait_until(lambda: pager.pages.get(1).slack_message_ts)


def reply(number: str, text: str, ticket: str = "sms_t1") -> str:
    return json.dumps(
        {
            "message_id": ticket,
            "number": number,
            "text": text,
            "reception_date": "2026-11-24 10:01:00",
        }
    )


def acknowledge_button(value: str, user: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T1"},
        "user": {"id": user},
        "channel": {"id": "C1"},
        "trigger_id": "t",
        "response_url": "",
        "actions": [
            {
                "action_id": ids.ACK_PAGE,
                "block_id": "page_actions",
                "type": "button",
                "value": value,
                "action_ts": "1",
            }
        ],
    }


# --- channel posts and threads: SMS_LANGUAGE=fr --------------------------------------


def test_a_page_post_and_its_delivery_summary_are_french(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(language="fr")
    harness.command("page crowd Disque plein")
    page_posted(harness)
    (post,) = channel_posts(harness)
    assert "*Alerte pour crowd*" in post and "Acquitter" in post
    assert "Page for" not in post and "Acknowledge" not in post
    assert "Disque plein" in post  # the typed text is never translated
    for name, number in CROWD.items():
        status = "NOT_DELIVERED" if name == "p00" else "DELIVERED"
        harness.callback(receipt("sms_t1", number, status))
    summary = wait_until(
        lambda: [text for text in updates(harness) if "20 remis" in text]
    )[-1]
    assert "*Remise* : 20 remis, 1 en échec" in summary
    assert "delivered" not in summary and "failed" not in summary
    assert "Alerte pour crowd" in summary  # still the page post, in French


def test_a_reply_and_an_sms_acknowledgement_are_french_in_the_thread(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(language="fr")
    first = order(harness)[0]
    stranger = "+33600000001"
    harness.command("page db-oncall DB down")
    page_posted(harness)
    harness.callback(reply(stranger, "Je regarde"))
    note = wait_until(lambda: [t for t in thread_texts(harness) if "Je regarde" in t])
    assert "Réponse de +33 6 •• •• •• 01" in note[0]
    assert "Pas pris comme un acquittement" in note[0]
    assert "Reply from" not in note[0] and "Not taken" not in note[0]

    harness.callback(reply(NUMBERS[first], "ACK"))
    acknowledged = wait_until(
        lambda: [t for t in updates(harness) if "Acquitté par" in t]
    )[-1]
    assert f"Acquitté par {first} (" in acknowledged and ") par SMS" in acknowledged
    assert "by SMS" not in acknowledged and "Acknowledged" not in acknowledged
    thread = wait_until(lambda: [t for t in thread_texts(harness) if "✅" in t])
    assert "par SMS" in thread[0] and "by SMS" not in thread[0]
    # The page record itself stays English, like the audit trail.
    assert harness.stack.escalations.pager.pages.get(1).acknowledged_by == (
        f"{first} (+33 6 •• •• •• {NUMBERS[first][-2:]}) by SMS"
    )


def test_a_stop_is_french_in_the_thread_the_admin_channel_and_the_failover(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(language="fr", admin_channel="CADMIN")
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    page_posted(harness)
    harness.callback(reply(NUMBERS[first], "STOP"))
    notice = wait_until(lambda: [t for t in thread_texts(harness) if "STOP" in t])
    assert f"🚫 {first} (" in notice[0]
    assert "a répondu STOP : ce numéro ne recevra plus de SMS" in notice[0]
    assert "(voir `sms-bot optout`)" in notice[0]
    assert "will not be texted" not in notice[0]
    admin = wait_until(lambda: channel_posts(harness, "CADMIN"))
    assert "ne veut plus recevoir de SMS : db-oncall ne peut plus joindre" in admin[0]
    assert "`sms-bot optout remove NUMBER`" in admin[0]  # a command stays a command
    assert "opted out" not in admin[0]
    moved = wait_until(
        lambda: [t for t in thread_texts(harness) if "est injoignable" in t]
    )
    assert (
        f"⏩ {first} est injoignable (a répondu STOP) : alerte *{second}*" in (moved[0])
    )
    assert "cannot be reached" not in moved[0] and "paging" not in moved[0]


def test_a_reply_with_no_post_and_no_admin_channel_is_logged_in_english(
    start: Callable[..., SlackHarness], caplog: pytest.LogCaptureFixture
) -> None:
    harness = start(language="fr")  # no SMS_ADMIN_CHANNEL
    harness.slack.state.failures["chat.postMessage"] = "channel_not_found"
    harness.slack.state.webhook_status = 500  # the result has nowhere to go
    harness.command("+33612345678 disque plein")
    (sent,) = finished(harness)
    assert harness.store.get(sent.id).slack_message_ts is None
    with caplog.at_level(logging.WARNING):
        harness.callback(reply("+33612345678", "bien reçu", ticket=sent.sms_ticket))
        wait_until(lambda: "no post to attach it to" in caplog.text)
    assert "Reply from alice (+33 6 •• •• •• 78): bien reçu" in caplog.text
    assert "Réponse de" not in caplog.text


def test_without_an_admin_channel_the_notice_is_logged_in_english(
    start: Callable[..., SlackHarness], caplog: pytest.LogCaptureFixture
) -> None:
    harness = start(language="fr")  # no SMS_ADMIN_CHANNEL
    stop = {"number": NUMBERS["bob"], "text": "STOP", "stop_date": "2026-11-24 10:05"}
    with caplog.at_level(logging.WARNING):
        harness.callback(json.dumps(stop))
        wait_until(lambda: "opted out of SMS" in caplog.text)
    assert "db-oncall cannot reach them" in caplog.text
    assert "ne veut plus" not in caplog.text


def test_a_failed_receipt_failover_names_the_receipt_in_french(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(language="fr")
    first, second, _ = order(harness)
    harness.command("page db-oncall DB down")
    page_posted(harness)
    harness.callback(receipt("sms_t1", NUMBERS[first], "NOT_DELIVERED"))
    moved = wait_until(
        lambda: [t for t in thread_texts(harness) if "est injoignable" in t]
    )
    assert f"(accusé de réception NOT_DELIVERED) : alerte *{second}*" in moved[0]
    assert "receipt" not in moved[0]


def test_escalations_and_nobody_acknowledging_are_french(
    start: Callable[..., SlackHarness], clock: FakeClock
) -> None:
    harness = start(language="fr")
    first, second, third = order(harness)
    harness.command("page db-oncall DB down")
    page_posted(harness)
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    line = wait_until(lambda: [t for t in thread_texts(harness) if "⏫" in t])
    assert f"⏫ {first} n'a pas acquitté : alerte *{second}* (+33 6" in line[0]
    assert "did not acknowledge" not in line[0] and "paging" not in line[0]
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    clock.advance(2)
    harness.stack.escalations.run_escalations()
    told = wait_until(
        lambda: [t for t in channel_posts(harness) if "Personne n'a acquitté" in t]
    )
    assert "🚨 Personne n'a acquitté l'alerte pour db-oncall. <!here>" in told[0]
    assert "Nobody acknowledged" not in "".join(channel_posts(harness))
    assert any(f"⏫ {second} n'a pas acquitté" in t for t in thread_texts(harness))


def test_a_page_that_reached_nobody_is_french_and_keeps_the_slack_tokens(
    start: Callable[..., SlackHarness], octopush: FakeOctopush
) -> None:
    harness = start(language="fr", admin_channel="CADMIN")
    for number in NUMBERS.values():
        OptOutList(harness.store).add(number, source="admin")
    harness.command("page db-oncall DB down")
    told = wait_until(
        lambda: [t for t in channel_posts(harness) if "n'a joint personne" in t]
    )
    assert "L'alerte pour db-oncall n'a joint personne : aucun membre (" in told[0]
    assert "n'a pu recevoir de SMS. <!here>" in told[0]
    assert "reached nobody" not in told[0]
    admin = wait_until(lambda: channel_posts(harness, "CADMIN"))
    assert "L'alerte pour db-oncall dans <#C1> n'a joint personne" in admin[0]
    notes = "".join(thread_texts(harness))
    assert "est injoignable :" in notes and "could not be reached" not in notes
    assert octopush.bodies == []


# --- ephemeral answers: the reader's Slack locale -------------------------------------


@pytest.mark.parametrize(
    ("typed", "french", "english"),
    [
        (
            "oncall set nope carol for 4h",
            "Aucune rotation nommée « nope » (rotations : db-oncall).",
            "No rotation called 'nope' (rotations: db-oncall).",
        ),
        (
            "oncall set db-oncall zed for 4h",
            "« zed » n'est pas une personne de l'annuaire",
            "'zed' is not a person in the directory",
        ),
        (
            "oncall set db-oncall <@UNOBODY> for 4h",
            "@UNOBODY n'est pas dans l'annuaire (aucune personne n'y a l'identifiant "
            "Slack UNOBODY)",
            "is not in the directory (no person there has the Slack id UNOBODY)",
        ),
        (
            "oncall set db-oncall carol until 2026-11-01 09:00",
            "2026-11-01 09:00 est dans le passé ; donnez une heure plus tardive",
            "2026-11-01 09:00 is in the past; give a later time",
        ),
        (
            "oncall set db-oncall carol until 2099-01-01 09:00",
            "2099-01-01 09:00 est à plus de 366 jours d'ici",
            "2099-01-01 09:00 is more than 366 days away",
        ),
        (
            "oncall nope",
            "Aucune rotation nommée « nope » (rotations : db-oncall).",
            "No rotation called 'nope' (rotations: db-oncall).",
        ),
    ],
)
def test_oncall_refusals_follow_their_readers_language(
    start: Callable[..., SlackHarness], typed: str, french: str, english: str
) -> None:
    harness = start()  # SMS_LANGUAGE=en: only U1's own locale makes it French
    harness.command(typed, user="U1", trigger="t-fr")
    (answer,) = harness.webhooks()
    assert answer["response_type"] == "ephemeral"
    assert french in all_text(answer)
    assert english not in all_text(answer)
    assert "&lt;@" not in all_text(answer)  # a mention is shown as @name, never markup
    harness.command(typed, user="U2", trigger="t-en")
    answer = harness.webhooks(2)[1]
    assert english in all_text(answer)
    assert french not in all_text(answer)


def test_who_is_on_call_is_answered_in_the_readers_language(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start()
    first, second, _ = order(harness)
    harness.command("oncall", user="U1", trigger="t-fr")
    (french,) = harness.webhooks()
    text = all_text(french)
    assert "D'astreinte maintenant" in text
    assert f"*db-oncall* : *{first}* maintenant" in text and f"*{second}*" in text
    assert "On call now" not in text
    harness.command("oncall", user="U2", trigger="t-en")
    assert "On call now" in all_text(harness.webhooks(2)[1])


def test_only_allowed_users_may_override_in_their_own_language(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start(allowed_users="U1,U2,U9")  # overrides: only these people
    harness.stack.escalations.pager.overrides._allowed_users = frozenset({"U9"})
    harness.command("oncall set db-oncall carol for 4h", user="U1", trigger="t-fr")
    (french,) = harness.webhooks()
    text = all_text(french)
    assert "Seules les personnes autorisées à envoyer des SMS peuvent poser" in text
    assert "Rien n'a été envoyé" in text and "Only the people" not in text
    harness.command("oncall set db-oncall carol for 4h", user="U2", trigger="t-en")
    english = all_text(harness.webhooks(2)[1])
    assert "Only the people allowed to send SMS may set or clear" in english


def test_a_page_refusal_is_in_its_readers_language(
    start: Callable[..., SlackHarness],
) -> None:
    harness = start()
    harness.command("page nobody-here DB down", user="U1", trigger="t-fr")
    (french,) = harness.webhooks()
    assert "Rien n'a été envoyé" in all_text(french)
    assert "Nothing was sent" not in all_text(french)
    harness.command("page nobody-here DB down", user="U2", trigger="t-en")
    assert "Nothing was sent" in all_text(harness.webhooks(2)[1])


def test_a_second_acknowledge_is_answered_in_the_readers_language(
    start: Callable[..., SlackHarness], httpserver: HTTPServer
) -> None:
    harness = start()
    harness.command("page db-oncall DB down")
    page_posted(harness)
    (post,) = harness.slack.calls("chat.postMessage")
    value = button_value(post.args)
    pages = harness.stack.escalations.pager.pages
    harness.interact(acknowledge_button(value, "U2"))
    wait_until(lambda: pages.get(1).acknowledged_by)
    for user in ("U1", "U2"):
        payload = acknowledge_button(value, user)
        payload["response_url"] = harness.slack.webhook_url(f"again-{user}")
        harness.interact(payload)
    (french,) = harness.slack.wait_for("webhook/again-U1")
    assert french.args["text"] == "Cette alerte a déjà été acquittée."
    (english,) = harness.slack.wait_for("webhook/again-U2")
    assert english.args["text"] == "This page was already acknowledged."


# --- plural forms and deferred texts, unit level -------------------------------------


def _deliveries(delivered: int, failed: int) -> list[Delivery]:
    made = datetime(2026, 11, 24, 10, tzinfo=UTC)
    statuses = ["DELIVERED"] * delivered + ["NOT_DELIVERED"] * failed
    return [
        Delivery(
            number=f"+336100001{index:02d}",
            status=status,
            raw_status=status,
            updated_at=made,
        )
        for index, status in enumerate(statuses)
    ]


@pytest.mark.parametrize(
    ("delivered", "failed", "english", "french"),
    [
        (20, 1, "20 delivered, 1 failed", "20 remis, 1 en échec"),
        (1, 20, "1 delivered, 20 failed", "1 remis, 20 en échec"),
        (19, 3, "19 delivered, 3 failed", "19 remis, 3 en échec"),
    ],
)
def test_the_delivery_counts_use_plural_forms(
    delivered: int, failed: int, english: str, french: str
) -> None:
    deliveries = _deliveries(delivered, failed)
    assert f"*Delivery*: {english}" in delivery_text(deliveries, translator("en"))
    assert f"*Remise* : {french}" in delivery_text(deliveries, translator("fr"))


def test_the_not_yet_delivered_tail_is_singular_for_one_and_plural_for_several() -> (
    None
):
    fr = translator("fr")
    one = delivery_text(_deliveries(0, 21), fr)
    several = delivery_text(_deliveries(0, 23), fr)
    assert "… et 1 autre pas encore remis" in one
    assert "… et 3 autres pas encore remis" in several


@pytest.mark.parametrize(
    ("days", "english", "french"),
    [
        (1, "is more than 1 day away", "est à plus de 1 jour d'ici"),
        (366, "is more than 366 days away", "est à plus de 366 jours d'ici"),
    ],
)
def test_the_override_horizon_has_plural_forms(
    days: int, english: str, french: str
) -> None:
    text = N_plural(
        "%(when)s is more than %(n)s day away",
        "%(when)s is more than %(n)s days away",
        days,
        when="2099-01-01 09:00",
    )
    assert english in text  # plain English for logs and the audit trail
    assert translator("fr").gettext(text) == f"2099-01-01 09:00 {french}"


def test_why_a_member_was_not_reached_is_translated_where_it_is_shown() -> None:
    refused = SendOutcome.model_construct(
        status=AuditStatus.FAILED,
        error_code="117",
        error_message="No valid number in recipient list",
    )
    why = Attempt("alice", refused).why
    assert why == "Octopush refused: [117] No valid number in recipient list"
    assert translator("fr").gettext(why) == (
        "Refusé par Octopush : [117] No valid number in recipient list"
    )


def test_the_bots_own_words_in_why_a_member_was_not_reached_are_translated() -> None:
    timed_out = N_("Octopush did not answer within %(seconds)s s", seconds=Number(2.5))
    for code, english, french in [
        (
            "117",
            "Octopush refused: [117] Octopush did not answer within 2.5 s",
            "Refusé par Octopush : [117] Octopush n'a pas répondu dans les 2,5 s",
        ),
        (
            None,
            "Octopush refused: Octopush did not answer within 2.5 s",
            "Refusé par Octopush : Octopush n'a pas répondu dans les 2,5 s",
        ),
    ]:
        failed = SendOutcome.model_construct(
            status=AuditStatus.FAILED, error_code=code, error_message=timed_out
        )
        why = Attempt("alice", failed).why
        assert why == english
        assert translator("fr").gettext(why) == french


def test_no_rotation_names_the_known_ones_or_says_none_in_french() -> None:
    empty = Directory()
    text = no_such_rotation("nope", empty)
    assert text == "No rotation called 'nope' (rotations: none defined)."
    assert translator("fr").gettext(text) == (
        "Aucune rotation nommée « nope » (rotations : aucune définie)."
    )
