"""The message rules: what a send must satisfy before Octopush sees it.

Octopush "interprets your request as best it can" and ignores what it cannot read, so
every rule it would enforce loosely (or bill for) is checked here first, and every
problem is reported at once, under its field, in words a person can act on. All pure:
the clock and the directory lookup are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import MAX_TEXT_LENGTH as MAX_TEXT_LENGTH  # the one definition
from bot.domain import (
    SENDER_PATTERN,
    Purpose,
    SendDraft,
    SendRequest,
    SmsType,
)
from bot.errors import InputError
from bot.i18n import N_, N_plural, joined
from bot.phones import DEFAULT_REGION
from bot.sending.recipient_rules import Resolver as Resolver
from bot.sending.recipient_rules import quoted
from bot.sending.recipient_rules import resolve_recipients as resolve_recipients

#: The opt-out mention French law and Octopush (error 121) require in marketing SMS.
STOP_MENTION = "STOP au 30101"
#: A send time at most this far in the past means "now": a minute-precision picker set
#: to the current minute, or a clock slightly ahead of the sender's.
CLOCK_SKEW = timedelta(minutes=1)

_SENDER_CHAR = re.compile(r"[A-Za-z0-9 ]")
_STOP = re.compile(r"stop\s+au\s+30101", re.IGNORECASE)
#: Control characters an SMS cannot carry (a NUL cannot even be stored by PostgreSQL);
#: tab, line feed and carriage return are ordinary text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class SendDefaults:
    """What a draft falls back to: ``SMS_DEFAULT_REGION/SENDER/TYPE/PURPOSE``."""

    region: str = DEFAULT_REGION
    sender: str | None = None
    sms_type: SmsType = SmsType.PREMIUM
    purpose: Purpose = Purpose.ALERT
    #: ``SMS_LANGUAGE``: the voice a call's text is read in (``fr`` → ``fr-FR``).
    language: str = "en"


def check_text(text: str) -> str:
    """Return ``text`` without surrounding whitespace (never worth paying for).

    Raises:
        InputError: on ``text`` when it is blank, holds a control character (a NUL
            byte…) or is longer than :data:`MAX_TEXT_LENGTH`.
    """
    control = _CONTROL.search(text)
    if control is not None:
        code = f"U+{ord(control.group()):04X}"
        raise InputError(
            "text",
            N_(
                "The message contains an invisible control character (code %(code)s) "
                "that cannot be sent by SMS; remove it, or retype the text",
                code=code,
            ),
        )
    text = text.strip()
    if not text:
        raise InputError("text", N_("The message is empty; write the text to send"))
    if len(text) > MAX_TEXT_LENGTH:
        raise InputError(
            "text",
            N_plural(
                "The message is %(length)s characters; the limit is %(limit)s, "
                "so remove %(n)s",
                "The message is %(length)s characters; the limit is %(limit)s, "
                "so remove %(n)s",
                len(text) - MAX_TEXT_LENGTH,
                length=len(text),
                limit=MAX_TEXT_LENGTH,
            ),
        )
    return text


def check_sender(sender: str | None) -> str | None:
    """Return the sender name stripped, or ``None`` when none is given.

    Operators show it instead of a number; Octopush accepts 3-11 ASCII letters, digits
    and spaces (no accents, no punctuation) and otherwise rejects the send (code 106).

    Raises:
        InputError: on ``sender``, naming the value.
    """
    if sender is None or not sender.strip():
        return None
    sender = sender.strip()
    if SENDER_PATTERN.match(sender):
        return sender
    bad = "".join(dict.fromkeys(c for c in sender if not _SENDER_CHAR.match(c)))
    if bad:
        raise InputError(
            "sender",
            N_(
                "The sender '%(sender)s' contains %(chars)s; "
                "use only letters A-Z, digits and spaces (3 to 11)",
                sender=sender,
                chars=quoted(bad),
            ),
        )
    raise InputError(
        "sender",
        N_plural(
            "The sender '%(sender)s' is %(n)s character; "
            "use 3 to 11 letters, digits or spaces",
            "The sender '%(sender)s' is %(n)s characters; "
            "use 3 to 11 letters, digits or spaces",
            len(sender),
            sender=sender,
        ),
    )


def check_send_at(send_at: datetime | None, *, now: datetime) -> datetime | None:
    """Return when to send: ``send_at`` as given, or ``None`` for "now".

    A time zone is required because Octopush reads a naive time as Central European
    time, whatever the sender meant. A time up to :data:`CLOCK_SKEW` in the past is
    taken as "now" (``None``); earlier ones are refused.

    Raises:
        InputError: on ``send_at`` when it is naive or in the past.
        ValueError: when ``now`` is naive (a programming error).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if send_at is None:
        return None
    if send_at.tzinfo is None or send_at.utcoffset() is None:
        example = send_at.replace(second=0, microsecond=0).isoformat()
        raise InputError(
            "send_at",
            N_(
                "The send time %(when)s needs a time zone, e.g. %(example)s+01:00",
                when=send_at.isoformat(),
                example=example,
            ),
        )
    if send_at < now - CLOCK_SKEW:
        when = now.astimezone(send_at.tzinfo).replace(microsecond=0).isoformat()
        raise InputError(
            "send_at",
            N_(
                "The send time %(when)s is in the past (it is now %(now)s); "
                "pick a later time, or leave it empty to send now",
                when=send_at.isoformat(),
                now=when,
            ),
        )
    if send_at <= now:
        return None
    return send_at


def check_stop_mention(text: str, purpose: Purpose) -> None:
    """Refuse marketing without the opt-out mention, which Octopush rejects (code 121).

    Raises:
        InputError: on ``text`` when ``purpose`` is wholesale and the text lacks
            :data:`STOP_MENTION`, written exactly so.
    """
    if purpose is not Purpose.WHOLESALE or STOP_MENTION in text:
        return
    found = _STOP.search(text)
    if found:
        problem = N_(
            "Marketing messages (purpose wholesale) must contain '%(mention)s' "
            "written exactly so, not '%(found)s', or use purpose alert "
            "if this is an alert or a reminder, not advertising",
            mention=STOP_MENTION,
            found=found[0],
        )
    else:
        problem = N_(
            "Marketing messages (purpose wholesale) must contain '%(mention)s'; "
            "add it at the end of the text, or use purpose alert "
            "if this is an alert or a reminder, not advertising",
            mention=STOP_MENTION,
        )
    raise InputError("text", problem)


def validate_draft(
    draft: SendDraft,
    *,
    defaults: SendDefaults,
    now: datetime,
    resolve: Resolver | None = None,
) -> SendRequest:
    """Apply the defaults to ``draft`` and check every rule; return what to send.

    Raises:
        InputError: with one problem per field (``recipients``, ``text``, ``sender``,
            ``send_at``), so the modal can show each under its input.
    """
    problems: dict[str, str] = {}

    def note(error: InputError) -> None:
        for field, message in error.problems.items():
            problems[field] = (
                joined([problems[field], message]) if field in problems else message
            )

    purpose = draft.purpose or defaults.purpose
    sms_type = draft.sms_type or defaults.sms_type
    recipients: tuple[str, ...] = ()
    text = draft.text
    sender: str | None = None
    send_at: datetime | None = None
    try:
        recipients = resolve_recipients(
            draft.recipients, region=defaults.region, resolve=resolve
        )
    except InputError as error:
        note(error)
    try:
        text = check_text(draft.text)
    except InputError as error:
        note(error)
    try:
        if draft.text.strip():  # a blank text gets one problem, not two
            check_stop_mention(draft.text, purpose)
    except InputError as error:
        note(error)
    try:
        given = (
            draft.sender if draft.sender and draft.sender.strip() else defaults.sender
        )
        sender = check_sender(given)
    except InputError as error:
        note(error)
    try:
        send_at = check_send_at(draft.send_at, now=now)
    except InputError as error:
        note(error)
    if problems:
        raise InputError.from_problems(problems)
    return SendRequest(
        recipients=recipients,
        text=text,
        sender=sender,
        sms_type=sms_type,
        purpose=purpose,
        send_at=send_at,
        with_replies=draft.with_replies,
        simulation=draft.simulation,
    )
