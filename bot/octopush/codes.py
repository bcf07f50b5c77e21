"""Octopush error codes, each with a short meaning and what a person should do about it.

The table follows the public "return codes" list (000-501). Codes marked legacy refer
to the pre-2020 API and are not expected from v1; they are kept so that any code
Octopush sends still gets words. Hints are for people, so the client never parses the
``message`` text Octopush sends (it changes between API versions).

Every meaning, action and hint is English, marked with :func:`N_` so ``pybabel``
extracts it: this package imports nothing from ``bot``, so the bot translates them at
the surface that knows its reader (``bot.i18n.octopush_hints``), looked up by code.
"""

from __future__ import annotations

from typing import NamedTuple

#: How a hint is built from a code's meaning and action (translated as one message).
HINT_FORMAT = "%(meaning)s. %(action)s."


def N_(message: str) -> str:  # noqa: N802 (gettext's marker name)
    """Mark ``message`` for translation by the bot; it stays English here."""
    return message


def N_plural(singular: str, plural: str, /) -> tuple[str, str]:  # noqa: N802
    """Mark a count's two English forms for translation by the bot (``%(n)s``)."""
    return singular, plural


class CodeInfo(NamedTuple):
    """What an Octopush code means, and what to do about it."""

    meaning: str
    action: str

    @property
    def hint(self) -> str:
        return HINT_FORMAT % {"meaning": self.meaning, "action": self.action}


_CREDENTIALS = N_(
    "Check OCTOPUSH_API_LOGIN (the account e-mail) and OCTOPUSH_API_KEY; "
    "the key must be a v1 API key from the Octopush dashboard, "
    "not an old octopush-dm.com one"
)
_CLIENT_BUG = N_("This points to a bug in the client; report it with the request_id")
_LEGACY = N_(
    "This is a legacy-API code not expected from v1; check that the base URL is "
    "https://api.octopush.com/v1/public"
)
_RETRY_OR_SUPPORT = N_("Try again later; contact Octopush support if it persists")

#: Octopush code (a string, as in ``"121"``) -> meaning and action.
CODES: dict[str, CodeInfo] = {
    "000": CodeInfo(N_("Octopush reported success"), N_("Nothing to do")),
    "100": CodeInfo(N_("Octopush received a request without a body"), _CLIENT_BUG),
    "101": CodeInfo(N_("Octopush refused the API login or key"), _CREDENTIALS),
    "102": CodeInfo(
        N_("The text is longer than one SMS allows"), N_("Shorten the text")
    ),
    "103": CodeInfo(N_("The message has no recipients"), N_("Add at least one number")),
    "104": CodeInfo(
        N_("The Octopush account is out of credit"),
        N_("Buy SMS credit in the Octopush dashboard, then resend"),
    ),
    "105": CodeInfo(
        N_("Not enough Octopush credit; the last order is awaiting validation"),
        N_("Wait for the order to be validated or buy more credit, then resend"),
    ),
    "106": CodeInfo(
        N_("Octopush refused the sender name"),
        N_("Use 3 to 11 letters or digits, without accents, spaces or punctuation"),
    ),
    "107": CodeInfo(N_("The message text is missing"), N_("Write a message")),
    "108": CodeInfo(N_("Octopush did not receive the API login or key"), _CREDENTIALS),
    "109": CodeInfo(N_("Password missing (legacy API)"), _LEGACY),
    "110": CodeInfo(N_("The recipient list is missing"), N_("Add at least one number")),
    "111": CodeInfo(N_("No way of giving recipients was chosen"), _CLIENT_BUG),
    "112": CodeInfo(
        N_("The SMS type is not defined"),
        N_("Send with type sms_premium or sms_low_cost"),
    ),
    "113": CodeInfo(
        N_("The Octopush account is not validated yet"),
        N_("Finish the account validation in the Octopush dashboard, then resend"),
    ),
    "114": CodeInfo(
        N_("The Octopush account is under investigation for fraud"),
        N_("Contact Octopush support; sending is blocked until they clear the account"),
    ),
    "115": CodeInfo(
        N_("The number of recipients does not match a related parameter"), _CLIENT_BUG
    ),
    "116": CodeInfo(
        N_("Personalised fields only work with a contact list"),
        N_("Remove the {first_name}/{param1} placeholders or send to a contact list"),
    ),
    "117": CodeInfo(
        N_("No valid phone number in the recipient list"),
        N_(
            "Write numbers in international format with the country code, "
            "e.g. +33612345678"
        ),
    ),
    "118": CodeInfo(
        N_("The test-SMS confirmation was not given"),
        N_("Confirm test sending in the Octopush dashboard"),
    ),
    "119": CodeInfo(
        N_("Texts over 160 characters are not allowed for this SMS type"),
        N_("Shorten the text to 160 characters or send with type sms_premium"),
    ),
    "120": CodeInfo(
        N_("Octopush already received a request with this request_id"),
        N_(
            "The SMS was probably sent already: check the Octopush dashboard "
            "before resending, and resend only with a new request_id"
        ),
    ),
    "121": CodeInfo(
        N_('Marketing SMS must contain the exact text "STOP au 30101"'),
        N_(
            'Add "STOP au 30101" to the text, or send with purpose alert '
            "if the message is not commercial"
        ),
    ),
    "122": CodeInfo(
        N_('This SMS type must contain "no PUB=STOP"'),
        N_('Add "no PUB=STOP" to the text or send with type sms_premium'),
    ),
    "123": CodeInfo(N_("request_sha1 missing (legacy API)"), _LEGACY),
    "124": CodeInfo(N_("request_sha1 mismatch (legacy API)"), _LEGACY),
    "125": CodeInfo(
        N_("Octopush hit an undefined error"),
        N_("Contact Octopush support with the request_id"),
    ),
    "126": CodeInfo(
        N_("A campaign is already awaiting send approval"),
        N_("Wait for it to be approved or cancel it in the Octopush dashboard"),
    ),
    "127": CodeInfo(
        N_("A campaign is already being processed"),
        N_("Wait for it to finish, then retry"),
    ),
    "128": CodeInfo(
        N_("Too many attempts for this campaign"),
        N_("Start a new campaign with a new request_id"),
    ),
    "129": CodeInfo(
        N_("The campaign is still being built"), N_("Wait a moment, then retry")
    ),
    "130": CodeInfo(N_("The campaign is not marked as finished"), _CLIENT_BUG),
    "131": CodeInfo(N_("Campaign not found"), N_("Check the campaign ticket number")),
    "132": CodeInfo(N_("The campaign was already sent"), N_("Nothing to do")),
    "133": CodeInfo(N_("user_batch_id already used (legacy API)"), _LEGACY),
    "150": CodeInfo(
        N_("No country matches this number's prefix"),
        N_("Check the country code of each number (e.g. +33 for France)"),
    ),
    "151": CodeInfo(
        N_("Octopush does not serve this number's country"),
        N_("Remove the number or use another provider for it"),
    ),
    "152": CodeInfo(
        N_("Low-cost SMS is not available for this country"),
        N_("Send with type sms_premium"),
    ),
    "153": CodeInfo(
        N_("The route is congested; this SMS type cannot be sent right now"),
        N_("Try again later, or send with type sms_premium"),
    ),
    "201": CodeInfo(
        N_("This option is available on request only"),
        N_("Ask Octopush support to enable it"),
    ),
    "202": CodeInfo(
        N_("The sub-account e-mail to credit is wrong"),
        N_("Check the sub-account e-mail"),
    ),
    "203": CodeInfo(N_("Tokens already in use (legacy API)"), _LEGACY),
    "204": CodeInfo(N_("Wrong token (legacy API)"), _LEGACY),
    "205": CodeInfo(
        N_("The number of SMS to transfer is too low"), N_("Transfer a larger amount")
    ),
    "206": CodeInfo(
        N_("Campaigns cannot be sent during a credit transfer"),
        N_("Wait for the transfer to finish, then resend"),
    ),
    "207": CodeInfo(
        N_("The account has no access to this feature"),
        N_("Ask Octopush support to enable it"),
    ),
    "208": CodeInfo(
        N_("Wrong SMS type"), N_("Send with type sms_premium or sms_low_cost")
    ),
    "209": CodeInfo(
        N_("This account may not send SMS for this user"),
        N_("Check the sub-account permissions in the Octopush dashboard"),
    ),
    "210": CodeInfo(
        N_("This e-mail is not one of your sub-accounts or affiliates"),
        N_("Check the e-mail address"),
    ),
    "300": CodeInfo(
        N_("The account may not manage contact lists by API"),
        N_("Ask Octopush support to enable it"),
    ),
    "301": CodeInfo(
        N_("The maximum number of lists is reached"), N_("Delete unused lists")
    ),
    "302": CodeInfo(N_("A list with this name already exists"), N_("Use another name")),
    "303": CodeInfo(N_("The list does not exist"), N_("Check the list name")),
    "304": CodeInfo(N_("The list is full"), N_("Use another list")),
    "305": CodeInfo(
        N_("Too many contacts in one request"),
        N_("Send at most 500 contacts per request"),
    ),
    "306": CodeInfo(N_("Unknown action"), _CLIENT_BUG),
    "308": CodeInfo(
        N_("Octopush could not read the file"), N_("Check the file and retry")
    ),
    "500": CodeInfo(
        N_("Octopush could not process the requested action"), _RETRY_OR_SUPPORT
    ),
    "501": CodeInfo(N_("Octopush had an internal connection error"), _RETRY_OR_SUPPORT),
}

#: Hints for failures that carry no Octopush code. The ``*_MAYBE_SENT`` variants are
#: used when Octopush may have accepted an SMS; the others when nothing was sent.
AUTH_HINT = CODES["101"].hint
RATE_LIMIT_HINT = N_(
    "Octopush is limiting the request rate. Wait a minute, then retry."
)
NOT_REACHED_HINT = N_(
    "Octopush could not be reached, so nothing was sent. Check the network and "
    "the base URL, then try again."
)
NO_ANSWER_HINT = N_("Octopush did not answer in time. Try again in a minute.")
NO_ANSWER_MAYBE_SENT_HINT = N_(
    "Octopush could not be reached in time after the request went out, so the "
    "SMS may have been sent. Check the Octopush dashboard before resending."
)
SERVER_ERROR_HINT = N_("Octopush had a server error. Try again in a minute.")
SERVER_ERROR_MAYBE_SENT_HINT = N_(
    "Octopush had a server error, so the SMS may have been sent. Check the "
    "Octopush dashboard before resending."
)
BAD_ANSWER_HINT = N_(
    "Octopush (or a proxy in front of it) answered something unexpected. Check "
    "the base URL, then try again."
)
BAD_ANSWER_MAYBE_SENT_HINT = N_(
    "Octopush (or a proxy in front of it) answered something unexpected, so the "
    "SMS may have been sent. Check the Octopush dashboard before resending."
)


def normalize_code(raw: object) -> str | None:
    """Octopush's code as a string (``121`` -> ``"121"``), or ``None`` if absent."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    return None


def lookup(code: str | None) -> CodeInfo | None:
    """The table entry for ``code`` (``"0"`` and ``"000"`` both match), or ``None``."""
    if code is None:
        return None
    if code.isdigit() and len(code) < 3:
        code = code.zfill(3)
    return CODES.get(code)


def hint_for(code: str | None) -> str | None:
    """A sentence telling a person what ``code`` means and what to do, or ``None``."""
    info = lookup(code)
    return info.hint if info is not None else None
