"""Every error the Octopush client raises; urllib3's errors never escape it.

::

    OctopushError                 code, message, http_status, request_id, hint,
                                  maybe_sent
      OctopushAPIError            Octopush answered an error (code kept if unknown)
        OctopushAuthenticationError   HTTP 401/403, or code 101/108
        OctopushRateLimitError        HTTP 429 (retry_after: float | None)
        OctopushValidationError       HTTP 4xx with an Octopush code
          OctopushDuplicateRequestError  code 120 answered to a retry: probably sent
      OctopushConnectionError     no usable answer: connect error, timeout, reset
      OctopushResponseError       an answer we could not read (not JSON, no sms_ticket)
      OctopushBatchError          a split send failed after some batches went out

``str(error)`` is ``"[{code}] {message}"`` (or just the message when there is no code),
so a chat post or a CLI line can show it as it is. ``maybe_sent`` is ``True`` whenever
Octopush may have accepted the SMS: check its dashboard before sending again.

A message the client wrote itself (a timeout, a refused connection, a batch that
stopped) also keeps its :class:`Wording`: the English template, marked with
:func:`bot.octopush.codes.N_`, and its values, so the bot can show it in its reader's
language. Octopush's own words (its ``message`` field) have no wording: they are
quoted as they came.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypedDict, Unpack

from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProxySchemeUnknown,
    ReadTimeoutError,
    SSLError,
)

from . import codes
from .wording import Wording, say

if TYPE_CHECKING:
    from .models import SmsCampaignResult

#: Failures that happen before anything is sent and that a retry will not fix.
#: (A bad or missing URL, or a proxy urllib3 cannot use, is a ``LocationValueError``.)
_NOT_RETRYABLE = (SSLError, LocationValueError, ProxySchemeUnknown)


class OctopushError(Exception):
    """Base class of every error raised by :mod:`bot.octopush`."""

    #: Octopush's error code as a string (``"121"``), or ``None`` when there is none.
    code: str | None
    #: What went wrong, in words; never holds the API key.
    message: str
    #: HTTP status of the answer, or ``None`` when no answer came.
    http_status: int | None
    #: The ``request_id`` (idempotency key) of the failed request, if it had one.
    request_id: str | None
    #: One sentence telling a person what it means and what to do, when we know.
    hint: str | None
    #: ``True`` when Octopush may have accepted the SMS despite this error.
    maybe_sent: bool
    #: How the client wrote ``message`` (translatable), or ``None`` for Octopush's words.
    wording: Wording | None

    def __init__(
        self,
        message: str | Wording,
        *,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        maybe_sent: bool = False,
    ) -> None:
        self.wording = message if isinstance(message, Wording) else None
        if isinstance(message, Wording):
            message = message.text
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        self.hint = hint
        self.maybe_sent = maybe_sent

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"http_status={self.http_status!r}, request_id={self.request_id!r}, "
            f"maybe_sent={self.maybe_sent!r})"
        )


class ErrorContext(TypedDict, total=False):
    """The keyword arguments every :class:`OctopushError` takes, for subclasses."""

    code: str | None
    http_status: int | None
    request_id: str | None
    hint: str | None
    maybe_sent: bool


class OctopushAPIError(OctopushError):
    """Octopush answered an error status (usually with a ``{code, message}`` body)."""


class OctopushAuthenticationError(OctopushAPIError):
    """The API login or key was refused (HTTP 401/403, or code 101/108)."""


class OctopushRateLimitError(OctopushAPIError):
    """Octopush answered HTTP 429: too many requests."""

    #: Seconds to wait, from the ``Retry-After`` header, when Octopush sent one.
    retry_after: float | None

    def __init__(
        self,
        message: str | Wording,
        *,
        retry_after: float | None = None,
        **context: Unpack[ErrorContext],
    ) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class OctopushValidationError(OctopushAPIError):
    """Octopush refused the request with a 4xx status and an error code (e.g. 121)."""


class OctopushDuplicateRequestError(OctopushValidationError):
    """A retry was answered "request_id already used" (code 120).

    The first attempt therefore reached Octopush, so the SMS was probably sent:
    ``maybe_sent`` is ``True``.
    """


class OctopushConnectionError(OctopushError):
    """No usable answer: could not connect, timed out, or the connection broke.

    ``maybe_sent`` is ``False`` only when no connection was ever made.
    """

    #: ``True`` when the request may have reached Octopush (read timeout, reset).
    reached: bool = False
    #: ``True`` when trying again might help (not a TLS or URL problem).
    retryable: bool = True

    @classmethod
    def from_urllib3(
        cls,
        exc: Exception,
        *,
        request_id: str | None,
        sends: bool,
        timeout: tuple[float, float],
    ) -> OctopushConnectionError:
        """Describe a failed exchange (a urllib3 error, or an ``OSError`` it let
        through); ``sends`` is whether it carried an SMS. Anything not known to
        have stopped before the request left counts as having reached Octopush."""
        inner: BaseException = exc
        if isinstance(exc, MaxRetryError) and isinstance(exc.reason, BaseException):
            inner = exc.reason  # the last attempt's own error (a read's retries)
        reached = False
        message: Wording
        if isinstance(inner, ConnectTimeoutError) and not isinstance(
            inner, NewConnectionError
        ):
            message = say(
                codes.N_("timed out connecting to Octopush (after %(seconds)s s)"),
                seconds=timeout[0],
            )
        elif isinstance(inner, _NOT_RETRYABLE):
            message = say(
                codes.N_("could not send the request to Octopush: %(reason)s"),
                reason=_reason(inner),
            )
        elif isinstance(inner, ReadTimeoutError):
            message = say(
                codes.N_("Octopush did not answer within %(seconds)s s"),
                seconds=timeout[1],
            )
            reached = True
        elif _never_connected(inner):
            message = say(
                codes.N_("could not connect to Octopush: %(reason)s"),
                reason=_reason(inner),
            )
        else:
            message = say(
                codes.N_("the connection to Octopush broke: %(reason)s"),
                reason=_reason(inner),
            )
            reached = True
        if not reached:
            hint = codes.NOT_REACHED_HINT
        elif sends:
            hint = codes.NO_ANSWER_MAYBE_SENT_HINT
        else:
            hint = codes.NO_ANSWER_HINT
        error = cls(
            message, request_id=request_id, hint=hint, maybe_sent=sends and reached
        )
        error.reached = reached
        error.retryable = not isinstance(inner, _NOT_RETRYABLE)
        error.__cause__ = exc
        return error


class OctopushResponseError(OctopushError):
    """Octopush (or a proxy) answered something we could not read.

    The message holds the HTTP status and the first 200 characters of the body.
    """


class OctopushBatchError(OctopushError):
    """A send split in batches of 500 failed after some batches were sent.

    ``code``, ``hint``, ``http_status`` and ``request_id`` come from ``cause``, which
    is also chained as ``__cause__``. ``maybe_sent`` is ``True``: the completed
    batches went out.
    """

    #: Results of the batches Octopush accepted, in order.
    completed: list[SmsCampaignResult]
    #: The error that stopped the send.
    cause: OctopushError
    #: How many batches the send was split into.
    total_batches: int

    def __init__(
        self,
        cause: OctopushError,
        *,
        completed: list[SmsCampaignResult],
        total_batches: int,
    ) -> None:
        done = len(completed)
        singular, plural = codes.N_plural(
            "batch %(failed)s of %(total)s failed after %(n)s batch had been sent: "
            "%(cause)s",
            "batch %(failed)s of %(total)s failed after %(n)s batches had been sent: "
            "%(cause)s",
        )
        params: dict[str, object] = {
            "failed": done + 1,
            "total": total_batches,
            "cause": cause.wording or cause.message,
        }
        message = Wording(singular, params, plural=plural, n=done)
        super().__init__(
            message,
            code=cause.code,
            http_status=cause.http_status,
            request_id=cause.request_id,
            hint=cause.hint,
            maybe_sent=True,
        )
        self.completed = completed
        self.cause = cause
        self.total_batches = total_batches
        self.__cause__ = cause


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (args, urllib3 ``reason``, causes)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            stack.extend(a for a in current.args if isinstance(a, BaseException))
            reason = getattr(current, "reason", None)
            if isinstance(reason, BaseException):
                stack.append(reason)
            if current.__cause__ is not None:
                stack.append(current.__cause__)


def _never_connected(exc: BaseException) -> bool:
    # urllib3's NewConnectionError (refused, DNS) subclasses ConnectTimeoutError.
    return any(isinstance(inner, ConnectTimeoutError) for inner in _chain(exc))


def _reason(exc: BaseException) -> str:
    """The innermost message ("Connection refused"), not the wrapper chain."""
    inner = exc
    for _ in range(10):
        nested = [arg for arg in inner.args if isinstance(arg, BaseException)]
        reason = getattr(inner, "reason", None)
        if nested:
            inner = nested[-1]
        elif isinstance(reason, BaseException):
            inner = reason
        else:
            break
    return str(inner)[:200] or type(inner).__name__
