"""Octopush error codes, each with a short meaning and what a person should do about it.

The table follows the public "return codes" list (000-501). Codes marked legacy refer
to the pre-2020 API and are not expected from v1; they are kept so that any code
Octopush sends still gets words. Hints are for people, so the client never parses the
``message`` text Octopush sends (it changes between API versions).
"""

from __future__ import annotations

from typing import NamedTuple


class CodeInfo(NamedTuple):
    """What an Octopush code means, and what to do about it."""

    meaning: str
    action: str

    @property
    def hint(self) -> str:
        return f"{self.meaning}. {self.action}."


_CREDENTIALS = (
    "Check OCTOPUSH_API_LOGIN (the account e-mail) and OCTOPUSH_API_KEY; "
    "the key must be a v1 API key from the Octopush dashboard, "
    "not an old octopush-dm.com one"
)
_CLIENT_BUG = "This points to a bug in the client; report it with the request_id"
_LEGACY = (
    "This is a legacy-API code not expected from v1; check that the base URL is "
    "https://api.octopush.com/v1/public"
)
_RETRY_OR_SUPPORT = "Try again later; contact Octopush support if it persists"

#: Octopush code (a string, as in ``"121"``) -> meaning and action.
CODES: dict[str, CodeInfo] = {
    "000": CodeInfo("Octopush reported success", "Nothing to do"),
    "100": CodeInfo("Octopush received a request without a body", _CLIENT_BUG),
    "101": CodeInfo("Octopush refused the API login or key", _CREDENTIALS),
    "102": CodeInfo("The text is longer than one SMS allows", "Shorten the text"),
    "103": CodeInfo("The message has no recipients", "Add at least one number"),
    "104": CodeInfo(
        "The Octopush account is out of credit",
        "Buy SMS credit in the Octopush dashboard, then resend",
    ),
    "105": CodeInfo(
        "Not enough Octopush credit; the last order is awaiting validation",
        "Wait for the order to be validated or buy more credit, then resend",
    ),
    "106": CodeInfo(
        "Octopush refused the sender name",
        "Use 3 to 11 letters or digits, without accents, spaces or punctuation",
    ),
    "107": CodeInfo("The message text is missing", "Write a message"),
    "108": CodeInfo("Octopush did not receive the API login or key", _CREDENTIALS),
    "109": CodeInfo("Password missing (legacy API)", _LEGACY),
    "110": CodeInfo("The recipient list is missing", "Add at least one number"),
    "111": CodeInfo("No way of giving recipients was chosen", _CLIENT_BUG),
    "112": CodeInfo(
        "The SMS type is not defined", "Send with type sms_premium or sms_low_cost"
    ),
    "113": CodeInfo(
        "The Octopush account is not validated yet",
        "Finish the account validation in the Octopush dashboard, then resend",
    ),
    "114": CodeInfo(
        "The Octopush account is under investigation for fraud",
        "Contact Octopush support; sending is blocked until they clear the account",
    ),
    "115": CodeInfo(
        "The number of recipients does not match a related parameter", _CLIENT_BUG
    ),
    "116": CodeInfo(
        "Personalised fields only work with a contact list",
        "Remove the {first_name}/{param1} placeholders or send to a contact list",
    ),
    "117": CodeInfo(
        "No valid phone number in the recipient list",
        "Write numbers in international format with the country code, "
        "e.g. +33612345678",
    ),
    "118": CodeInfo(
        "The test-SMS confirmation was not given",
        "Confirm test sending in the Octopush dashboard",
    ),
    "119": CodeInfo(
        "Texts over 160 characters are not allowed for this SMS type",
        "Shorten the text to 160 characters or send with type sms_premium",
    ),
    "120": CodeInfo(
        "Octopush already received a request with this request_id",
        "The SMS was probably sent already: check the Octopush dashboard "
        "before resending, and resend only with a new request_id",
    ),
    "121": CodeInfo(
        'Marketing SMS must contain the exact text "STOP au 30101"',
        'Add "STOP au 30101" to the text, or send with purpose alert '
        "if the message is not commercial",
    ),
    "122": CodeInfo(
        'This SMS type must contain "no PUB=STOP"',
        'Add "no PUB=STOP" to the text or send with type sms_premium',
    ),
    "123": CodeInfo("request_sha1 missing (legacy API)", _LEGACY),
    "124": CodeInfo("request_sha1 mismatch (legacy API)", _LEGACY),
    "125": CodeInfo(
        "Octopush hit an undefined error",
        "Contact Octopush support with the request_id",
    ),
    "126": CodeInfo(
        "A campaign is already awaiting send approval",
        "Wait for it to be approved or cancel it in the Octopush dashboard",
    ),
    "127": CodeInfo(
        "A campaign is already being processed", "Wait for it to finish, then retry"
    ),
    "128": CodeInfo(
        "Too many attempts for this campaign",
        "Start a new campaign with a new request_id",
    ),
    "129": CodeInfo("The campaign is still being built", "Wait a moment, then retry"),
    "130": CodeInfo("The campaign is not marked as finished", _CLIENT_BUG),
    "131": CodeInfo("Campaign not found", "Check the campaign ticket number"),
    "132": CodeInfo("The campaign was already sent", "Nothing to do"),
    "133": CodeInfo("user_batch_id already used (legacy API)", _LEGACY),
    "150": CodeInfo(
        "No country matches this number's prefix",
        "Check the country code of each number (e.g. +33 for France)",
    ),
    "151": CodeInfo(
        "Octopush does not serve this number's country",
        "Remove the number or use another provider for it",
    ),
    "152": CodeInfo(
        "Low-cost SMS is not available for this country",
        "Send with type sms_premium",
    ),
    "153": CodeInfo(
        "The route is congested; this SMS type cannot be sent right now",
        "Try again later, or send with type sms_premium",
    ),
    "201": CodeInfo(
        "This option is available on request only",
        "Ask Octopush support to enable it",
    ),
    "202": CodeInfo(
        "The sub-account e-mail to credit is wrong", "Check the sub-account e-mail"
    ),
    "203": CodeInfo("Tokens already in use (legacy API)", _LEGACY),
    "204": CodeInfo("Wrong token (legacy API)", _LEGACY),
    "205": CodeInfo(
        "The number of SMS to transfer is too low", "Transfer a larger amount"
    ),
    "206": CodeInfo(
        "Campaigns cannot be sent during a credit transfer",
        "Wait for the transfer to finish, then resend",
    ),
    "207": CodeInfo(
        "The account has no access to this feature",
        "Ask Octopush support to enable it",
    ),
    "208": CodeInfo("Wrong SMS type", "Send with type sms_premium or sms_low_cost"),
    "209": CodeInfo(
        "This account may not send SMS for this user",
        "Check the sub-account permissions in the Octopush dashboard",
    ),
    "210": CodeInfo(
        "This e-mail is not one of your sub-accounts or affiliates",
        "Check the e-mail address",
    ),
    "300": CodeInfo(
        "The account may not manage contact lists by API",
        "Ask Octopush support to enable it",
    ),
    "301": CodeInfo("The maximum number of lists is reached", "Delete unused lists"),
    "302": CodeInfo("A list with this name already exists", "Use another name"),
    "303": CodeInfo("The list does not exist", "Check the list name"),
    "304": CodeInfo("The list is full", "Use another list"),
    "305": CodeInfo(
        "Too many contacts in one request", "Send at most 500 contacts per request"
    ),
    "306": CodeInfo("Unknown action", _CLIENT_BUG),
    "308": CodeInfo("Octopush could not read the file", "Check the file and retry"),
    "500": CodeInfo(
        "Octopush could not process the requested action", _RETRY_OR_SUPPORT
    ),
    "501": CodeInfo("Octopush had an internal connection error", _RETRY_OR_SUPPORT),
}

#: Hints for failures that carry no Octopush code. The ``*_MAYBE_SENT`` variants are
#: used when Octopush may have accepted an SMS; the others when nothing was sent.
AUTH_HINT = CODES["101"].hint
RATE_LIMIT_HINT = "Octopush is limiting the request rate. Wait a minute, then retry."
NOT_REACHED_HINT = (
    "Octopush could not be reached, so nothing was sent. Check the network and "
    "the base URL, then try again."
)
NO_ANSWER_HINT = "Octopush did not answer in time. Try again in a minute."
NO_ANSWER_MAYBE_SENT_HINT = (
    "Octopush could not be reached in time after the request went out, so the "
    "SMS may have been sent. Check the Octopush dashboard before resending."
)
SERVER_ERROR_HINT = "Octopush had a server error. Try again in a minute."
SERVER_ERROR_MAYBE_SENT_HINT = (
    "Octopush had a server error, so the SMS may have been sent. Check the "
    "Octopush dashboard before resending."
)
BAD_ANSWER_HINT = (
    "Octopush (or a proxy in front of it) answered something unexpected. Check "
    "the base URL, then try again."
)
BAD_ANSWER_MAYBE_SENT_HINT = (
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
