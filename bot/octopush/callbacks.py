"""Typed events for the callbacks Octopush posts: delivery receipts, replies, opt-outs.

Octopush posts all three kinds to one URL with no type field, so the kind is read
from the date field each carries (``delivery_date``, ``reception_date`` or
``answer_date``, ``stop_date``). The body encoding is undocumented, so JSON, form
encoding and a form field holding JSON are all accepted. Parsing is pure: the web
route answers Octopush at once and hands the event on.

Octopush dates carry no zone. They are read as Europe/Paris time by default, which
is a guess (the API reference says "likely", UNCONFIRMED); pass ``timezone=`` to
:func:`parse_callback` if Octopush support says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import TypeAlias
from zoneinfo import ZoneInfo

from ._callback_fields import (
    CallbackParseError as CallbackParseError,
)
from ._callback_fields import (
    Fields,
    date_field,
    decode_body,
    phone_number,
    pressed_keys,
    snippet,
    text_field,
)
from .codes import N_

#: The zone Octopush's zone-less dates are read in unless told otherwise (UNCONFIRMED).
OCTOPUSH_TIMEZONE = ZoneInfo("Europe/Paris")

#: First words that opt a number out when a carrier forwards STOP as a plain reply.
STOP_WORDS = ("STOP", "STOPALL", "ARRET", "ARRÊT", "UNSUBSCRIBE")

_WORD = re.compile(r"[^\W_]+")
#: Words that may follow a stop word ("STOP SMS", "STOP au 36180") and still mean STOP.
_STOP_TAIL = frozenset({"sms", "au", "to"})


class DeliveryStatus(StrEnum):
    """A delivery-receipt status; ``UNKNOWN`` stands for any value not listed here."""

    ACK = "ACK"
    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    NOT_ALLOWED = "NOT_ALLOWED"
    UNKNOWN_DELIVERY = "UNKNOWN_DELIVERY"
    BAD_DESTINATION = "BAD_DESTINATION"
    BLACKLISTED_NUMBER = "BLACKLISTED_NUMBER"
    UNDEFINED = "UNDEFINED"
    # Documented on readme.io only, mostly for e-mail and RCS.
    READ = "READ"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    TRANSMITTED = "TRANSMITTED"
    ISP_SEND = "ISP_SEND"
    PROCESSED = "PROCESSED"
    SPAM_PRESUMPTION = "SPAM_PRESUMPTION"
    # The voice receipt's own statuses (octopush-api.md, addendum (b)).
    NOT_DELIVERABLE = "NOT_DELIVERABLE"
    BUSY = "BUSY"
    REFUSED = "REFUSED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def from_raw(cls, raw: str) -> DeliveryStatus:
        """The status for Octopush's string, tolerant of case and spacing."""
        key = re.sub(r"[\s-]+", "_", raw.strip()).upper()
        try:
            return cls(key)
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_delivered(self) -> bool:
        """The message reached the handset (or was read, opened or clicked)."""
        return self in _DELIVERED

    @property
    def is_failure(self) -> bool:
        """The message will not be delivered."""
        return self in _FAILURES

    @property
    def is_permanent_failure(self) -> bool:
        """Sending again to this number will fail too, so do not retry."""
        return self in _PERMANENT_FAILURES

    @property
    def is_final(self) -> bool:
        """No later receipt will change the outcome; ``ACK`` and the like are not."""
        return self.is_delivered or self.is_failure


_DELIVERED = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.OPENED,
        DeliveryStatus.CLICKED,
    }
)
_PERMANENT_FAILURES = frozenset(
    {
        DeliveryStatus.BAD_DESTINATION,
        DeliveryStatus.BLACKLISTED_NUMBER,
        DeliveryStatus.NOT_ALLOWED,
        DeliveryStatus.NOT_DELIVERABLE,
    }
)
# UNDEFINED counts as failed, as in WP-SMS's mapping quoted by the API reference.
_FAILURES = _PERMANENT_FAILURES | {
    DeliveryStatus.NOT_DELIVERED,
    DeliveryStatus.UNDEFINED,
    # A call nobody took: final for that call (a later call is a new campaign).
    DeliveryStatus.BUSY,
    DeliveryStatus.REFUSED,
}

_DESCRIPTIONS = {
    DeliveryStatus.ACK: N_("accepted by the carrier, waiting for the handset"),
    DeliveryStatus.DELIVERED: N_("delivered"),
    DeliveryStatus.NOT_DELIVERED: N_("not delivered"),
    DeliveryStatus.NOT_ALLOWED: N_("not allowed on this route"),
    DeliveryStatus.UNKNOWN_DELIVERY: N_(
        "delivery unknown (the carrier has not confirmed)"
    ),
    DeliveryStatus.BAD_DESTINATION: N_("bad destination number"),
    DeliveryStatus.BLACKLISTED_NUMBER: N_("number has opted out (blacklisted)"),
    DeliveryStatus.UNDEFINED: N_("not delivered (no reason given)"),
    DeliveryStatus.READ: N_("read"),
    DeliveryStatus.OPENED: N_("opened"),
    DeliveryStatus.CLICKED: N_("link clicked"),
    DeliveryStatus.TRANSMITTED: N_("passed on to the carrier"),
    DeliveryStatus.ISP_SEND: N_("handed to the recipient's provider"),
    DeliveryStatus.PROCESSED: N_("processed by Octopush"),
    DeliveryStatus.SPAM_PRESUMPTION: N_("flagged as probable spam"),
    DeliveryStatus.NOT_DELIVERABLE: N_("cannot be called"),
    DeliveryStatus.BUSY: N_("busy"),
    DeliveryStatus.REFUSED: N_("call refused"),
    DeliveryStatus.UNKNOWN: N_("unrecognised status"),
}


def describe_status(status: DeliveryStatus) -> str:
    """Plain words for a status, for a person reading a channel post.

    English, marked for extraction: the bot shows it in its reader's language.
    """
    return _DESCRIPTIONS[status]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """What happened to one recipient of a campaign (a DLR; premium route only)."""

    #: The campaign ticket, shared by all its recipients: correlate on it *and* number.
    message_id: str
    number: str
    status: DeliveryStatus
    #: Octopush's own string, kept so an ``UNKNOWN`` status can still be shown.
    raw_status: str
    delivered_at: datetime | None
    #: ``sms``, ``voice_sms``, ``rcs``…; ``None`` when Octopush left it out.
    channel: str | None
    #: The keys pressed during a call (``"1"``), from ``pressed_keys_code`` at the
    #: top level or in ``meta_data`` (its place is UNCONFIRMED); ``None`` when absent.
    pressed_keys: str | None = None

    @property
    def description(self) -> str:
        """:func:`describe_status`, quoting Octopush's string when it is unknown."""
        if self.status is DeliveryStatus.UNKNOWN and self.raw_status:
            return f"unrecognised status {snippet(self.raw_status, 40)}"
        return describe_status(self.status)


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundReply:
    """An SMS received from a handset, usually a reply to one of our campaigns."""

    #: The campaign replied to, when Octopush could match one.
    message_id: str | None
    number: str
    text: str
    #: The number or short code that received it (``12345``).
    sim_card_number: str | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    """A number that asked to stop receiving messages; never message it again."""

    message_id: str | None
    number: str
    text: str | None
    stopped_at: datetime | None


CallbackEvent: TypeAlias = DeliveryReceipt | InboundReply | OptOut


def parse_callback(
    body: bytes,
    content_type: str | None,
    *,
    timezone: tzinfo = OCTOPUSH_TIMEZONE,
) -> CallbackEvent:
    """Read one Octopush callback body into a typed event.

    ``timezone`` is the zone of Octopush's zone-less dates (Europe/Paris by default,
    UNCONFIRMED). Unknown fields are ignored and an unreadable date becomes ``None``,
    so a change on Octopush's side loses detail rather than the event.

    Raises:
        CallbackParseError: the body is unreadable, of no known kind, or lacks the
            number (or, for a receipt, the ``message_id``).
    """
    fields = decode_body(body, content_type)
    number = text_field(fields, "number")
    if number is None:
        raise CallbackParseError(f"no number in callback (fields: {_names(fields)})")
    number = phone_number(number)
    if _has(fields, "delivery_date"):
        return _receipt(fields, number, timezone)
    if _has(fields, "reception_date") or _has(fields, "answer_date"):
        return _reply(fields, number, timezone)
    if _has(fields, "stop_date"):
        return _opt_out(fields, number, timezone)
    if _has(fields, "status"):
        return _receipt(fields, number, timezone)
    if _has(fields, "text"):
        return _reply(fields, number, timezone)
    raise CallbackParseError(f"unknown kind of callback (fields: {_names(fields)})")


def _receipt(fields: Fields, number: str, zone: tzinfo) -> DeliveryReceipt:
    message_id = text_field(fields, "message_id")
    if message_id is None:
        raise CallbackParseError("delivery receipt without message_id")
    raw_status = text_field(fields, "status") or ""
    return DeliveryReceipt(
        message_id=message_id,
        number=number,
        status=DeliveryStatus.from_raw(raw_status),
        raw_status=raw_status,
        delivered_at=date_field(fields, "delivery_date", zone),
        channel=text_field(fields, "channel"),
        pressed_keys=pressed_keys(fields),
    )


def _reply(fields: Fields, number: str, zone: tzinfo) -> InboundReply:
    sim_card = text_field(fields, "sim_card_number")
    received_at = date_field(fields, "reception_date", zone)
    return InboundReply(
        message_id=text_field(fields, "message_id"),
        number=number,
        text=text_field(fields, "text") or "",
        sim_card_number=phone_number(sim_card) if sim_card else None,
        received_at=received_at or date_field(fields, "answer_date", zone),
    )


def _opt_out(fields: Fields, number: str, zone: tzinfo) -> OptOut:
    return OptOut(
        message_id=text_field(fields, "message_id"),
        number=number,
        text=text_field(fields, "text"),
        stopped_at=date_field(fields, "stop_date", zone),
    )


def _has(fields: Fields, name: str) -> bool:
    """A field counts only with a value: a ``null`` placeholder is not a hint."""
    return text_field(fields, name) is not None


def _names(fields: Fields) -> str:
    return snippet(", ".join(sorted(fields)), 80)


def _words(text: str) -> list[str]:
    return [word.casefold() for word in _WORD.findall(text)]


def is_ack_word(text: str, words: Iterable[str] = ("ACK", "OK")) -> bool:
    """Whether a reply acknowledges a page: its first word is one of ``words``.

    Case and punctuation around the word are ignored, so ``"ok!"`` and
    ``"Ack - on it"`` count, but ``"okay"`` and ``"not ok"`` do not.
    """
    found = _words(text)
    return bool(found) and found[0] in {word.casefold() for word in words}


def is_stop_word(text: str, words: Iterable[str] = STOP_WORDS) -> bool:
    """Whether a reply is an opt-out, for carriers that forward STOP as a plain SMS.

    Deliberately narrow: the reply must be only the stop word, optionally with
    ``SMS`` or a short code (``"STOP"``, ``"stop."``, ``"STOP au 36180"``). A reply
    such as ``"stop the deploy"`` is an answer to a page, not an opt-out.
    """
    found = _words(text)
    if not found or found[0] not in {word.casefold() for word in words}:
        return False
    return all(word in _STOP_TAIL or word.isdigit() for word in found[1:])
