"""The voice step of a page: what a call says, and the send that makes it.

A rotation with ``call_after`` calls its member on call when the page SMS is not
acknowledged in time. The call is an attempt of the one send path (``sms_type``
``voice``): audited, priced, counted in the budget and the escalation cap, resent by
crash recovery. Its text is written for the ear: who is paged, the summary once, the
page number spelled out, then how to acknowledge, twice.
"""

from __future__ import annotations

from bot.audit.pages import Page
from bot.domain import Purpose, SendDraft, SmsType
from bot.i18n import N_, Translator
from bot.octopush.models import MAX_TEXT_LENGTH

#: The key a person presses during the call to acknowledge the page.
ACK_KEY = "1"

#: How long the summary read aloud may be (the rest of the call's text fits after).
SUMMARY_LIMIT = 600

_DIGITS = (
    N_("zero"),
    N_("one"),
    N_("two"),
    N_("three"),
    N_("four"),
    N_("five"),
    N_("six"),
    N_("seven"),
    N_("eight"),
    N_("nine"),
)


def spelled(number: int, words: Translator) -> str:
    """``12`` → ``one, two``: digit by digit, so a speech engine never garbles it."""
    return ", ".join(words.gettext(_DIGITS[int(d)]) for d in str(number))


def call_text(page: Page, member: str, words: Translator, *, ack_word: str) -> str:
    """What the call reads aloud to ``member`` (in ``SMS_LANGUAGE``)."""
    summary = " ".join(_spoken(page.text or words.gettext("Page")).split())
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 3] + "..."
    how = words.gettext(
        "To acknowledge, reply %(word)s %(page)s by SMS, or press %(key)s.",
        word=ack_word,
        page=page.id,
        key=ACK_KEY,
    )
    parts = [
        words.gettext(
            "Hello %(member)s. You are paged for %(target)s.",
            member=member,
            target=page.target,
        ),
        summary.rstrip(".") + ".",
        words.gettext("Page number %(number)s.", number=spelled(page.id, words)),
        how,
        how,
    ]
    return _spoken(" ".join(parts))[:MAX_TEXT_LENGTH]


def _spoken(text: str) -> str:
    """Octopush reads non-Unicode text only: emoji and other symbols beyond Latin-1
    (which keeps French accents) are left out rather than refused."""
    return "".join(c if ord(c) < 0x100 else " " for c in text)


def call_draft(text: str, member: str, request_id: str) -> SendDraft:
    """The send of one call: the member, the text, under the claim's request id."""
    return SendDraft(
        recipients=(member,),
        text=text,
        sms_type=SmsType.VOICE,
        purpose=Purpose.ALERT,
        request_id=request_id,
    )
