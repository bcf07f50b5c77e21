"""A page's SMS: what it is and how to answer, in one GSM-7 SMS where it can.

``[sms-bot #12] DB down (prod, critical), paged by Alertmanager. Reply ACK 12, RES 12
to resolve, ESC 12 to pass it on.`` The reply words are the bot's (``SMS_LANGUAGE``);
the body is the sender's, cut with ``…`` rather than spread over several SMS.
"""

from __future__ import annotations

from bot.i18n import Translator
from bot.sending.segments import GSM_BASIC, GSM_EXTENSION

#: One SMS: 160 GSM-7 characters (an extension character counts two), 70 in UCS-2.
GSM_ONE_SMS = 160
UCS2_ONE_SMS = 70
ELLIPSIS = "…"


def is_gsm(text: str) -> bool:
    return all(char in GSM_BASIC or char in GSM_EXTENSION for char in text)


def gsm_length(text: str) -> int:
    return sum(2 if char in GSM_EXTENSION else 1 for char in text)


#: A body ending otherwise gets a full stop before the reply words.
_ENDINGS = (".", "!", "?", "…")


def _tail(words: Translator, page_id: int) -> str:
    return " " + words.gettext(
        "Reply ACK %(n)s, RES %(n)s to resolve, ESC %(n)s to pass it on.", n=page_id
    )


def page_sms(words: Translator, page_id: int, body: str) -> str:
    """The page SMS for page ``page_id``: its number, ``body``, and the reply words."""
    head = f"[sms-bot #{page_id}] "
    tail = _tail(words, page_id)
    cut = fit(body.strip(), head + "." + tail)
    return head + cut + ("" if cut.endswith(_ENDINGS) else ".") + tail


def page_body(words: Translator, page_id: int, text: str | None) -> str:
    """What :func:`page_sms` wrapped: the text without its number and reply words."""
    body = (text or "").removeprefix(f"[sms-bot #{page_id}] ")
    return body.removesuffix(_tail(words, page_id))


def fit(body: str, around: str) -> str:
    """``body`` cut with ``…`` so that it and ``around`` fit one SMS.

    GSM-7 when everything else is; the ellipsis itself is not GSM-7, so a GSM text is
    cut with ``...`` only when ``…`` would turn the SMS into UCS-2 (70 characters).
    """
    if is_gsm(body + around):
        room = GSM_ONE_SMS - gsm_length(around)
        if gsm_length(body) <= room:
            return body
        cut = body
        while cut and gsm_length(cut) > room - 3:
            cut = cut[:-1]
        return cut.rstrip() + "..."
    room = max(UCS2_ONE_SMS - len(around), 10)
    if len(body) <= room:
        return body
    return body[: room - 1].rstrip() + ELLIPSIS
