"""One Octopush HTTP call: timeouts, retries that are safe, errors that say why.

Two retry mechanisms, each where it fits:

* ``GET`` (the balance) repeats harmlessly, so urllib3's ``Retry`` does it, mounted on
  the session for the wallet paths only: connect and read errors and 5xx answers.
* ``POST /sms-campaign/send`` is retried here by hand, because whether a repeat is
  safe depends on the campaign: after a connect error or a 429 always (nothing was
  queued), after a read timeout, a broken connection or a 5xx only when the campaign
  has a ``request_id`` (Octopush then refuses the repeat instead of sending twice; a
  code 120 on the retry means the first attempt went through).

A 429 is retried here for both methods, waiting its ``Retry-After`` (capped).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from .answers import raise_for_response
from .errors import OctopushConnectionError, OctopushError, OctopushRateLimitError

logger = logging.getLogger(__name__)

#: The longest ``Retry-After`` the client waits for, in seconds.
MAX_RETRY_AFTER = 30.0
#: Paths only read (GET): urllib3 retries them.
READ_ONLY_PREFIX = "/wallet/"


class Transport:
    """Thread-safe: no per-call state; the session is used for its connection pool."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        api_key: str,
        timeout: tuple[float, float],
        max_retries: int,
        get_retries: int,
        backoff: float,
        session: requests.Session | None,
        pool_size: int,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        #: Waits between hand-made retries (a test seam).
        self.sleep: Callable[[float], None] = time.sleep
        self._headers = headers
        self._api_key = api_key
        self._owns_session = session is None
        # An injected session brings its own retry policy and is left untouched.
        self._session = (
            session
            if session is not None
            else pooled_session(
                pool_size, base_url + READ_ONLY_PREFIX, get_retries, backoff
            )
        )

    def close(self) -> None:
        """Close the connection pool (only if the transport created the session)."""
        if self._owns_session:
            self._session.close()

    def request(
        self,
        method: Literal["GET", "POST", "DELETE"],
        path: str,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
        *,
        retries: int,
    ) -> requests.Response:
        """Call the API, retrying what is safe; return a 2xx answer or raise."""
        sends = method == "POST"
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
                    raise_for_response(response, request_id, attempt > 0, self.redact)
                except OctopushError as exc:
                    error = exc
            error.maybe_sent = reached = sends and (error.maybe_sent or reached)
            self._scrub(error)
            delay = self._retry_delay(error, attempt, retries, sends, repeatable)
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
            self.sleep(delay)

    def _retry_delay(
        self,
        error: OctopushError,
        attempt: int,
        retries: int,
        sends: bool,
        repeatable: bool,
    ) -> float | None:
        """Seconds to wait before trying again, or ``None`` not to retry."""
        if attempt >= retries:
            return None
        if isinstance(error, OctopushRateLimitError):
            # Octopush refused the request, so nothing was queued.
            if error.retry_after is not None:
                return min(error.retry_after, MAX_RETRY_AFTER)
        elif not sends:
            return None  # urllib3 already retried what failed on the way
        elif isinstance(error, OctopushConnectionError):
            if not error.retryable or (error.reached and not repeatable):
                return None
        elif not (error.http_status and error.http_status >= 500 and repeatable):
            return None
        return float(self.backoff * 2**attempt)

    def _scrub(self, error: OctopushError) -> None:
        """Take the API key out of an error message, whatever put it there."""
        error.message = self.redact(error.message)
        error.args = (error.message,)
        if error.wording is not None:
            error.wording = error.wording.redacted(self.redact)

    def redact(self, text: str) -> str:
        return text.replace(self._api_key, "***")


def pooled_session(
    size: int, read_only_url: str, get_retries: int, backoff: float
) -> requests.Session:
    """A session keeping up to ``size`` connections, one per concurrent sender thread.

    requests keeps 10 by default; more concurrent sends would each open (and log)
    a connection that is thrown away after use. GETs under ``read_only_url`` go
    through their own adapter, whose urllib3 ``Retry`` repeats them; everything else
    (the send) is never retried by urllib3.
    """
    session = requests.Session()
    _environment_once(session, read_only_url)
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    retry = Retry(
        total=get_retries,
        connect=get_retries,
        read=get_retries,
        status=get_retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset(range(500, 600)),
        backoff_factor=backoff,
        respect_retry_after_header=False,  # a 429 waits its (capped) Retry-After here
        raise_on_status=False,  # the last answer is mapped to an error as usual
        raise_on_redirect=False,
    )
    session.mount(
        read_only_url, requests.adapters.HTTPAdapter(max_retries=retry, pool_maxsize=2)
    )
    return session


def _environment_once(session: requests.Session, url: str) -> None:
    """Read the proxy and CA bundle settings of the environment once, not per call.

    requests re-reads them (and ``~/.netrc``) on every request when ``trust_env`` is
    on: a file lookup and a walk of the environment per send. The gateway is one
    host, so its proxies (``HTTPS_PROXY``, ``NO_PROXY``) and CA bundle
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) are the same for every call. A
    ``.netrc`` login is left out on purpose: Octopush is authenticated by header.
    """
    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
