"""Issue 20, item 4: a page SMS says its number and how to answer, in one SMS."""

from __future__ import annotations

from bot.i18n import translator
from bot.paging.page_text import GSM_ONE_SMS, UCS2_ONE_SMS, gsm_length, page_sms
from bot.paging.replies import ACK, ESCALATE, RESOLVE, ReplyCommand, read_command


def test_the_page_sms_names_the_page_and_the_replies() -> None:
    text = page_sms(
        translator("en"), 12, "DB down (prod, critical), paged by Alertmanager."
    )
    assert text == (
        "[sms-bot #12] DB down (prod, critical), paged by Alertmanager. "
        "Reply ACK 12, RES 12 to resolve, ESC 12 to pass it on."
    )


def test_a_long_gsm_body_is_cut_to_one_sms() -> None:
    text = page_sms(translator("en"), 7, "Disk full on db-1 " * 20)
    assert gsm_length(text) <= GSM_ONE_SMS
    assert "..." in text and text.endswith("ESC 7 to pass it on.")


def test_a_long_unicode_body_is_cut_with_an_ellipsis_to_one_ucs2_sms() -> None:
    text = page_sms(translator("en"), 7, "🔥 Disque plein sur db-1 " * 10)
    assert len(text) <= UCS2_ONE_SMS + 60  # the reply words are never cut
    assert "…" in text and text.endswith("ESC 7 to pass it on.")


def test_reply_commands_are_read_with_or_without_the_number() -> None:
    words = ("ACK", "OK")
    assert read_command("RES 12", words) == ReplyCommand(RESOLVE, 12)
    assert read_command("esc #12", words) == ReplyCommand(ESCALATE, 12)
    assert read_command("ok", words) == ReplyCommand(ACK, None)
    assert read_command("ACK 3 on it", words) == ReplyCommand(ACK, 3)
    assert read_command("resolve the DB", words) is None
    assert read_command("on it", words) is None
