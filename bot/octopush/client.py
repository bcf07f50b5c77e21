"""A small, thread-safe client for the Octopush SMS API v1.

Every call goes through ``OctopushClient._request`` (timeouts, retries, logging), and
every error answer is mapped in ``OctopushClient._raise_for_response``. Only
:mod:`bot.octopush.errors` exceptions leave this module.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import ValidationError

from . import codes
from .errors import (
    OctopushAPIError,
    OctopushAuthenticationError,
    OctopushBatchError,
    OctopushConnectionError,
    OctopushDuplicateRequestError,
    OctopushError,
    OctopushRateLimitError,
    OctopushResponseError,
    OctopushValidationError,
)
from .models import Balance, SmsCampaign, SmsCampaignResult

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.octopush.com/v1/public"
_E = TypeVar("_E", bound=OctopushError)

#: The longest ``Retry-After`` the client waits for, in seconds.
MAX_RETRY_AFTER = 30.0


class OctopushClient:
    """Sends SMS campaigns and reads the balance, with timeouts and safe retries.

    One instance may be shared between threads: it keeps no per-call state, and it
    uses its ``requests.Session`` only for the (thread-safe) urllib3 connection
    pool, never for cookies or auth. A send is retried
    (up to ``max_retries`` times, waiting ``backoff * 2**n``) after a connect error
    or a 429, and after a read timeout, a broken connection or a 5xx only when the
    campaign has a ``request_id``: only then does Octopush refuse the repeat
    instead of sending the SMS twice. Other 4xx answers are never retried.
    """

    #: Extra attempts for ``get_balance``: a GET is safe to repeat after any failure.
    balance_retries: int = 2

    def __init__(
        self,
        *,
        api_login: str,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: tuple[float, float] = (3.05, 10.0),
        max_retries: int = 1,
        backoff: float = 0.5,
        session: requests.Session | None = None,
        user_agent: str = "sms-bot-octopush/0.1",
        pool_size: int = 32,
    ) -> None:
        if not api_login or not api_key:
            raise ValueError("api_login and api_key are both required")
        if max_retries < 0 or backoff < 0:
            raise ValueError("max_retries and backoff must not be negative")
        #: The account e-mail, sent as ``api-login``.
        self.api_login = api_login
        self.base_url = base_url.rstrip("/")
        #: ``(connect, read)`` timeouts in seconds, for each attempt.
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._api_key = api_key
        self._owns_session = session is None
        self._session = session if session is not None else _pooled_session(pool_size)
        # Sent with each request, so an injected session is left untouched.
        self._headers = {
            "api-login": api_login,
            "api-key": api_key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": user_agent,
            "cache-control": "no-cache",
        }
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return (
            f"OctopushClient(api_login={self.api_login!r}, base_url={self.base_url!r})"
        )

    def close(self) -> None:
        """Close the connection pool (only if the client created the session)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> OctopushClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def send_sms_campaign(self, campaign: SmsCampaign) -> SmsCampaignResult:
        """Send ``campaign`` and return Octopush's ticket(s).

        More than 500 recipients go in batches of 500, in order. With a
        ``request_id`` R, batch i (from 1) carries ``R-i``, so sending the same
        campaign again repeats the same keys and Octopush refuses the duplicates.

        Raises:
            OctopushBatchError: a batch after the first failed; ``completed`` holds
                the results of the batches already sent.
            OctopushError: any other failure; ``maybe_sent`` says whether Octopush
                may have accepted the SMS all the same.
        """
        bodies = campaign.batches()
        if len(bodies) == 1:
            return self._send_batch(bodies[0])
        results: list[SmsCampaignResult] = []
        for body in bodies:
            try:
                results.append(self._send_batch(body))
            except OctopushError as error:
                if not results:
                    raise
                raise OctopushBatchError(
                    error, completed=results, total_batches=len(bodies)
                ) from error
        return SmsCampaignResult.combine(results)

    def get_balance(self) -> Balance:
        """The credit left on the account.

        Raises:
            OctopushError: the balance could not be read (``maybe_sent`` is False).
        """
        response = self._request("GET", "/wallet/check-balance")
        try:
            return Balance.model_validate(self._json_object(response, None))
        except ValidationError as exc:
            what = "a balance without a numeric amount and a unit"
            raise self._response_error(response, None, what) from exc

    def _send_batch(self, body: dict[str, Any]) -> SmsCampaignResult:
        request_id = body.get("request_id")
        response = self._request("POST", "/sms-campaign/send", body, request_id)
        data = self._json_object(response, request_id)
        data.pop("tickets", None)  # ours, not Octopush's
        try:
            if not isinstance(data.get("sms_ticket"), str):
                raise ValueError("no sms_ticket")
            return SmsCampaignResult.model_validate(data)
        except (ValueError, ValidationError) as exc:
            what = "a success without a usable sms_ticket"
            raise self._response_error(response, request_id, what) from exc

    def _request(
        self,
        method: Literal["GET", "POST"],
        path: str,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> requests.Response:
        """Call the API, retrying what is safe; return a 2xx answer or raise."""
        sends = method == "POST"
        retries = self.max_retries if sends else self.balance_retries
        repeatable = not sends or request_id is not None
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        url = self.base_url + path
        shown = urlsplit(url).path  # logged: the path only, never headers or body
        reached = False  # an earlier attempt may have reached Octopush
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    data=data,
                    headers=self._headers,
                    timeout=self.timeout,
                    allow_redirects=False,  # a redirect would carry api-key along
                )
            except requests.RequestException as exc:
                status: object = type(exc).__name__
                error: OctopushError = OctopushConnectionError.from_requests(
                    exc, request_id=request_id, sends=sends, timeout=self.timeout
                )
            else:
                status = response.status_code
            ms = (time.monotonic() - started) * 1000
            logger.debug("Octopush %s %s -> %s in %.0f ms", method, shown, status, ms)
            if isinstance(status, int):
                if 200 <= status < 300:
                    return response
                try:
                    self._raise_for_response(response, request_id, attempt > 0)
                except OctopushError as exc:
                    error = exc
            error.maybe_sent = reached = sends and (error.maybe_sent or reached)
            self._scrub(error)
            delay = self._retry_delay(error, attempt, retries, repeatable)
            if delay is None:
                raise error from error.__cause__
            attempt += 1
            logger.warning(
                "Octopush %s %s failed (%s); retry %d of %d in %.1f s, request_id %s",
                method,
                shown,
                error,
                attempt,
                retries,
                delay,
                request_id,
            )
            self._sleep(delay)

    def _retry_delay(
        self, error: OctopushError, attempt: int, retries: int, repeatable: bool
    ) -> float | None:
        """Seconds to wait before trying again, or ``None`` not to retry."""
        if attempt >= retries:
            return None
        if isinstance(error, OctopushRateLimitError):
            # Octopush refused the request, so nothing was queued.
            if error.retry_after is not None:
                return min(error.retry_after, MAX_RETRY_AFTER)
        elif isinstance(error, OctopushConnectionError):
            if not error.retryable or (error.reached and not repeatable):
                return None
        elif not (error.http_status and error.http_status >= 500 and repeatable):
            return None
        return float(self.backoff * 2**attempt)

    def _raise_for_response(
        self, response: requests.Response, request_id: str | None, retried: bool
    ) -> None:
        """Raise the error for a non-2xx answer: the one place statuses are mapped.

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
        body = _json_dict(response)
        code = codes.normalize_code(body.get("code")) if body else None
        said = _server_message(body)
        text = said or f"Octopush answered HTTP {status}"
        hint = codes.hint_for(code)

        def fail(cls: type[_E], text: str, hint: str | None, sent: bool = False) -> _E:
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
            what = "an error that is not JSON"
            raise self._response_error(response, request_id, what)
        if code == "120" and retried:
            text = (
                f"request_id {request_id} was already used (code 120) when the send "
                "was retried: the first attempt reached Octopush, so the SMS was "
                "probably sent. Check the Octopush dashboard before resending."
            )
            raise fail(OctopushDuplicateRequestError, text, hint, sent=True)
        if 400 <= status < 500 and code is not None:
            raise fail(OctopushValidationError, text, hint)
        sent = status >= 500 and response.request.method == "POST"
        if hint is None and status >= 500:
            hint = (
                codes.SERVER_ERROR_MAYBE_SENT_HINT if sent else codes.SERVER_ERROR_HINT
            )
        if said is None:
            text = f"{text}: {self._preview(response)}"
        raise fail(OctopushAPIError, text, hint, sent)

    def _json_object(
        self, response: requests.Response, request_id: str | None
    ) -> dict[str, Any]:
        """The JSON object of a 2xx answer, or an ``OctopushResponseError``."""
        data = _json_dict(response)
        if data is None:
            what = "a body that is not a JSON object"
            raise self._response_error(response, request_id, what)
        return data

    def _response_error(
        self, response: requests.Response, request_id: str | None, what: str
    ) -> OctopushResponseError:
        status = response.status_code
        # A 3xx or 4xx was refused; a 2xx or 5xx may have been acted on.
        sending = response.request.method == "POST"
        maybe_sent = sending and not 300 <= status < 500
        return OctopushResponseError(
            f"Octopush answered HTTP {status} with {what}: {self._preview(response)}",
            http_status=status,
            request_id=request_id,
            hint=codes.BAD_ANSWER_MAYBE_SENT_HINT
            if maybe_sent
            else codes.BAD_ANSWER_HINT,
            maybe_sent=maybe_sent,
        )

    def _preview(self, response: requests.Response) -> str:
        """The first 200 characters of the body, on one line, key removed."""
        text = " ".join(response.content[:200].decode(errors="replace").split())
        return repr(self._redact(text)) if text else "an empty body"

    def _scrub(self, error: OctopushError) -> None:
        """Take the API key out of an error message, whatever put it there."""
        error.message = self._redact(error.message)
        error.args = (error.message,)

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***")


def _json_dict(response: requests.Response) -> dict[str, Any] | None:
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


def _pooled_session(size: int) -> requests.Session:
    """A session keeping up to ``size`` connections, one per concurrent sender thread.

    requests keeps 10 by default; more concurrent sends would each open (and log)
    a connection that is thrown away after use.
    """
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
