"""Reading Octopush's answers: the one place HTTP statuses and codes become errors.

Pure functions of an :class:`Answer`; ``redact`` takes the API key out of any body
text quoted in an error message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from . import codes
from .errors import (
    OctopushAPIError,
    OctopushAuthenticationError,
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushRateLimitError,
    OctopushResponseError,
    OctopushValidationError,
)
from .wording import Wording, say

_E = TypeVar("_E", bound=OctopushError)
Redact = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer of Octopush, read whole."""

    #: The method of the request it answers (a ``POST`` may have sent SMS).
    method: str
    status_code: int
    #: Case-insensitive (urllib3's ``HTTPHeaderDict``).
    headers: Mapping[str, str]
    content: bytes


def raise_for_response(
    response: Answer,
    request_id: str | None,
    retried: bool,
    redact: Redact,
) -> None:
    """Raise the error for a non-2xx answer.

    ======================  ==========================================
    401, 403, code 101/108  OctopushAuthenticationError
    429                     OctopushRateLimitError (``retry_after``)
    body not a JSON object  OctopushResponseError
    code 120 on a retry     OctopushDuplicateRequestError (maybe sent)
    4xx with a code         OctopushValidationError
    anything else           OctopushAPIError (maybe sent when 5xx)
    ======================  ==========================================
    """
    status = response.status_code
    body = json_dict(response)
    code = codes.normalize_code(body.get("code")) if body else None
    said = _server_message(body)
    text: str | Wording = said or say(
        codes.N_("Octopush answered HTTP %(status)s"), status=status
    )
    hint = codes.hint_for(code)

    def fail(
        cls: type[_E], text: str | Wording, hint: str | None, sent: bool = False
    ) -> _E:
        return cls(
            text,
            code=code,
            http_status=status,
            request_id=request_id,
            hint=hint,
            maybe_sent=sent,
        )

    if status in (401, 403) or code in ("101", "108"):
        raise fail(OctopushAuthenticationError, text, hint or codes.AUTH_HINT)
    if status == 429:
        error = fail(OctopushRateLimitError, text, hint or codes.RATE_LIMIT_HINT)
        error.retry_after = _retry_after(response.headers.get("Retry-After"))
        raise error
    if body is None:
        what = codes.N_("an error that is not JSON")
        raise response_error(response, request_id, what, redact)
    if code == "120" and retried:
        text = say(
            codes.N_(
                "request_id %(request_id)s was already used (code 120) when the send "
                "was retried: the first attempt reached Octopush, so the SMS was "
                "probably sent. Check the Octopush dashboard before resending."
            ),
            request_id=request_id,
        )
        raise fail(OctopushDuplicateRequestError, text, hint, sent=True)
    if 400 <= status < 500 and code is not None:
        raise fail(OctopushValidationError, text, hint)
    sent = status >= 500 and response.method == "POST"
    if hint is None and status >= 500:
        hint = codes.SERVER_ERROR_MAYBE_SENT_HINT if sent else codes.SERVER_ERROR_HINT
    if said is None:
        text = say(
            codes.N_("Octopush answered HTTP %(status)s: %(body)s"),
            status=status,
            body=_shown_body(response, redact),
        )
    raise fail(OctopushAPIError, text, hint, sent)


def json_object(
    response: Answer, request_id: str | None, redact: Redact
) -> dict[str, Any]:
    """The JSON object of a 2xx answer, or an ``OctopushResponseError``."""
    data = json_dict(response)
    if data is None:
        what = codes.N_("a body that is not a JSON object")
        raise response_error(response, request_id, what, redact)
    return data


def response_error(
    response: Answer, request_id: str | None, what: str, redact: Redact
) -> OctopushResponseError:
    """An answer we could not read; whether it may have sent depends on the status.

    ``what`` describes the answer in English, marked with ``codes.N_`` by the caller.
    """
    status = response.status_code
    # A 3xx or 4xx was refused; a 2xx or 5xx may have been acted on.
    sending = response.method == "POST"
    maybe_sent = sending and not 300 <= status < 500
    return OctopushResponseError(
        say(
            codes.N_("Octopush answered HTTP %(status)s with %(what)s: %(body)s"),
            status=status,
            what=say(what),
            body=_shown_body(response, redact),
        ),
        http_status=status,
        request_id=request_id,
        hint=codes.BAD_ANSWER_MAYBE_SENT_HINT if maybe_sent else codes.BAD_ANSWER_HINT,
        maybe_sent=maybe_sent,
    )


def preview(response: Answer, redact: Redact) -> str:
    """The first 200 characters of the body, on one line, key removed."""
    shown = _shown_body(response, redact)
    return shown.text if isinstance(shown, Wording) else shown


def _shown_body(response: Answer, redact: Redact) -> str | Wording:
    """:func:`preview` as a wording value: the quoted body, or words for no body."""
    text = " ".join(response.content[:200].decode(errors="replace").split())
    return repr(redact(text)) if text else say(codes.N_("an empty body"))


def json_dict(response: Answer) -> dict[str, Any] | None:
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _server_message(body: dict[str, Any] | None) -> str | None:
    """Octopush's own words: ``message``, else ``detail``."""
    for key in ("message", "detail"):
        value = (body or {}).get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header; the HTTP-date form is ignored."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
