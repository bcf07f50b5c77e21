"""Phone numbers and recipient tokens as people type them, turned into E.164.

People paste numbers in every national habit (``06.12.34.56.78``, ``(415) 555-0123``,
``0033 6 12 34 56 78``); Octopush wants ``+33612345678``. Parsing is strict about
validity so a typo is refused here, with the token named, instead of being billed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import (
    NumberParseException,
    PhoneNumberFormat,
    PhoneNumberType,
    ValidationResult,
)

from bot.errors import InputError
from bot.i18n import N_, Deferred

#: Region used when none is given (the ``SMS_DEFAULT_REGION`` default).
DEFAULT_REGION = "FR"

_TEL = re.compile(r"^tel:", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^\+?[0-9 .\-()/\u00a0]+$")
_GROUP = re.compile(r"^[0-9.\-()/]+$")
_FIRST_GROUP = re.compile(r"^\+?[0-9.\-()/]+$")
_MIN_DIGITS = 3
#: No number has more digits (ITU-T E.164 allows 15; international prefixes add a few).
MAX_DIGITS = 20

#: Why a number cannot exist; deferred, so each is translated inside its message.
_REASONS = {
    ValidationResult.TOO_SHORT: N_("too short"),
    ValidationResult.TOO_LONG: N_("too long"),
    ValidationResult.INVALID_LENGTH: N_("wrong number of digits"),
    ValidationResult.INVALID_COUNTRY_CODE: N_("unknown country code"),
}


#: Kinds of number that cannot take an SMS, in plain words. FIXED_LINE_OR_MOBILE (the
#: plan does not tell) and VOIP (some can) are not flagged.
_NO_SMS = {
    PhoneNumberType.TOLL_FREE: N_("a toll-free number: it cannot receive SMS"),
    PhoneNumberType.PREMIUM_RATE: N_("a premium-rate number: it cannot receive SMS"),
    PhoneNumberType.SHARED_COST: N_("a shared-cost number: it cannot receive SMS"),
    PhoneNumberType.UAN: N_("a company switchboard number: it cannot receive SMS"),
    PhoneNumberType.VOICEMAIL: N_("a voicemail access number: it cannot receive SMS"),
    PhoneNumberType.FIXED_LINE: N_("a landline number: it usually cannot receive SMS"),
}


def _strip_tel(token: str) -> str:
    return _TEL.sub("", token.strip(), count=1).strip()


def _digits(word: str) -> int:
    return sum(c.isdigit() for c in word)


def looks_like_phone(token: str) -> bool:
    """Cheap test: could ``token`` be meant as a phone number rather than a name?

    True for digits with the usual separators (space, ``.``, ``-``, ``/``, parentheses),
    an optional leading ``+`` or ``tel:``, and at least three digits. Letters always
    make it False, so directory names and mentions are never read as numbers (and
    vanity numbers such as ``1-800-FLOWERS`` are refused). Validity is
    :func:`parse_phone`'s job.
    """
    bare = _strip_tel(token)
    return bool(_PHONE_CHARS.match(bare)) and _digits(bare) >= _MIN_DIGITS


@lru_cache(maxsize=64)
def example_number(region: str) -> str:
    """A valid mobile number of ``region`` in E.164, to show in messages."""
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
    if example is None:
        return "+33612345678"
    return str(phonenumbers.format_number(example, PhoneNumberFormat.E164))


def write_as(region: str) -> str:
    """Advice for messages, e.g. ``as +33612345678 or in FR national form``.

    Deferred (:func:`bot.i18n.N_`): pass it as a message parameter, never paste it.
    """
    region = region.strip().upper()
    if region in phonenumbers.SUPPORTED_REGIONS:
        return N_(
            "as %(example)s or in %(region)s national form",
            example=example_number(region),
            region=region,
        )
    return N_(
        "in international form, such as %(example)s",
        example=example_number(DEFAULT_REGION),
    )


def parse_phone(raw: str, region: str) -> str:
    """Return ``raw`` as an E.164 number, reading national forms in ``region``.

    Accepts spaces, dots, dashes, parentheses, a ``00`` (or the region's) international
    prefix and a ``tel:`` URI prefix.

    Raises:
        InputError: on field ``recipients``, naming ``raw``, when it is not a phone
            number or is one that cannot exist (wrong length, unknown prefix).
    """
    region = region.strip().upper()
    number = _e164(raw, region)
    if number is None:
        raise InputError("recipients", _why_not_a_number(raw, region))
    return number


@lru_cache(maxsize=4096)
def _valid_number(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """``raw`` read in ``region`` when it is a valid number, else None. Cached: an ack
    reads the same token up to three times (the grammar, its checks, the reply), and a
    sender the same on-call numbers all day; ``phonenumbers`` takes 30–50 µs a parse.
    Only read, never changed, by its callers."""
    if not looks_like_phone(raw):
        return None
    try:
        number = phonenumbers.parse(_strip_tel(raw), region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


@lru_cache(maxsize=4096)
def _e164(raw: str, region: str) -> str | None:
    """``raw`` in E.164, None when it is not a valid number."""
    number = _valid_number(raw, region)
    if number is None:
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def _why_not_a_number(raw: str, region: str) -> Deferred:
    """What :func:`parse_phone` says of a token it refuses (not on the hot path)."""
    shown = raw.strip()
    not_a_number = N_(
        "'%(token)s' is not a phone number; write it %(write_as)s",
        token=shown,
        write_as=write_as(region),
    )
    if not looks_like_phone(raw):
        return not_a_number
    try:
        number = phonenumbers.parse(_strip_tel(raw), region)
    except NumberParseException:
        return not_a_number
    reason = _REASONS.get(phonenumbers.is_possible_number_with_reason(number))
    if reason is None:
        return N_(
            "'%(token)s' is not a valid phone number; write it %(write_as)s",
            token=shown,
            write_as=write_as(region),
        )
    return N_(
        "'%(token)s' is not a valid phone number (%(reason)s); write it %(write_as)s",
        token=shown,
        reason=reason,
        write_as=write_as(region),
    )


def is_valid_phone(raw: str, region: str) -> bool:
    """True when :func:`parse_phone` would accept ``raw``."""
    return _e164(raw, region.strip().upper()) is not None


def is_digit_group(word: str, *, first: bool) -> bool:
    """A word that can be part of a number typed with spaces: ``+33``, ``06``, ``(415)``.

    A ``+`` or ``tel:`` starts a new number, so only the first word of a run has one.
    """
    bare = _strip_tel(word) if first else word
    pattern = _FIRST_GROUP if first else _GROUP
    return bool(pattern.match(bare)) and any(c.isdigit() for c in bare)


def sms_warning(raw: str, region: str) -> Deferred | None:
    """Why ``raw`` probably cannot receive an SMS (toll-free, landline…), or ``None``.

    ``None`` too for what is not a valid number: :func:`parse_phone` names those.
    """
    return _sms_warning(raw, region.strip().upper())


@lru_cache(maxsize=4096)
def _sms_warning(raw: str, region: str) -> Deferred | None:
    """:func:`sms_warning`, cached as :func:`_valid_number` is (the warnings are
    constants)."""
    number = _valid_number(raw, region)
    if number is None:
        return None
    return _NO_SMS.get(phonenumbers.number_type(number))
