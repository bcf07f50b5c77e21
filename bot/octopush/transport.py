"""One Octopush HTTP call: timeouts, retries that are safe, errors that say why.

The calls go through urllib3 (the connection pool requests is built on), not through
``requests``: a send is the bot's hot path, and requests' layers above the pool (a
prepared request, merged settings, cookies, hooks, a second response object) took about
40 % of each call's CPU (453 against 265 µs against a local server), for nothing Octopush
uses. What requests gave
and Octopush needs is kept here: the proxies and ``NO_PROXY`` of the environment, and
its CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's), all read
once, when the transport is built.

Two retry mechanisms, each where it fits:

* ``GET`` (the balance) repeats harmlessly, so urllib3's ``Retry`` does it, for the
  wallet paths only: connect and read errors and 5xx answers.
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
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import certifi
import urllib3
from requests.utils import get_auth_from_url, get_environ_proxies
from urllib3.exceptions import HTTPError, LocationValueError, ProxySchemeUnknown
from urllib3.util.retry import Retry

from .answers import Answer, raise_for_response
from .errors import OctopushConnectionError, OctopushError, OctopushRateLimitError

logger = logging.getLogger(__name__)

#: The longest ``Retry-After`` the client waits for, in seconds.
MAX_RETRY_AFTER = 30.0
#: Paths only read (GET): urllib3 retries them.
READ_ONLY_PREFIX = "/wallet/"
#: Characters no header value may hold (they would end the header early).
_HEADER_BREAKS = frozenset("\r\n\0")


class Transport:
    """Thread-safe: no per-call state; the pools are urllib3's (thread-safe)."""

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
        pool_size: int,
    ) -> None:
        for name, value in headers.items():
            if _HEADER_BREAKS.intersection(value):
                # Said without the value: it may be the API key.
                raise ValueError(f"the {name} header holds a line break")
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        #: Waits between hand-made retries (a test seam).
        self.sleep: Callable[[float], None] = time.sleep
        self._headers = headers
        self._api_key = api_key
        self._pools = Pools(pool_size, base_url)
        self._read_retry = read_retry(get_retries, backoff)

    def close(self) -> None:
        """Close the pooled connections."""
        self._pools.clear()

    def request(
        self,
        method: Literal["GET", "POST", "DELETE"],
        path: str,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
        *,
        retries: int,
    ) -> Answer:
        """Call the API, retrying what is safe; return a 2xx answer or raise."""
        sends = method == "POST"
        repeatable = not sends or request_id is not None
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        url = self.base_url + path
        shown = urlsplit(url).path  # logged: the path only, never headers or body
        # Only reads are repeated by urllib3 (a send's retries are decided here).
        retry: Retry | Literal[False] = (
            self._read_retry if path.startswith(READ_ONLY_PREFIX) else False
        )
        reached = False  # an earlier attempt may have reached Octopush
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._pools.call(
                    method, url, data, self._headers, self.timeout, retry
                )
            except (HTTPError, OSError) as exc:
                status: object = type(exc).__name__
                error: OctopushError = OctopushConnectionError.from_urllib3(
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


class Pools:
    """urllib3 pools for the gateway: straight, or through the environment's proxy.

    The proxies (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and the
    CA bundle are read once, for the gateway's host: requests re-read them (and
    ``~/.netrc``) on every call. A proxy urllib3 cannot use (``socks5://``) fails each
    call as a request that cannot be sent, as it did through requests.
    """

    def __init__(self, size: int, base_url: str) -> None:
        bundle = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where()
        )
        where = "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"
        options: dict[str, Any] = {
            "maxsize": size,
            "cert_reqs": "CERT_REQUIRED",
            where: bundle,
        }
        self._direct = urllib3.PoolManager(**options)
        proxies = get_environ_proxies(base_url)
        self._proxied: dict[str, urllib3.PoolManager | ProxySchemeUnknown] = {}
        for scheme in ("http", "https"):
            proxy = proxies.get(scheme) or proxies.get("all")
            if proxy:
                try:
                    self._proxied[scheme] = urllib3.ProxyManager(
                        proxy, proxy_headers=_proxy_login(proxy), **options
                    )
                except ProxySchemeUnknown as unusable:
                    self._proxied[scheme] = unusable

    def call(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: tuple[float, float],
        retry: Retry | Literal[False],
    ) -> Answer:
        """One exchange (urllib3 errors raised as they are); the whole answer read."""
        scheme = url.partition("://")[0].lower()
        if scheme not in ("http", "https"):
            raise LocationValueError(f"not an http(s) URL: {url}")
        pool = self._proxied.get(scheme, self._direct)
        if isinstance(pool, ProxySchemeUnknown):
            raise pool
        answer = pool.urlopen(
            method,
            url,
            body=body,
            headers=dict(headers),
            timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
            retries=retry,
            redirect=False,  # a redirect would carry api-key along
        )
        return Answer(method, answer.status, answer.headers, answer.data)

    def clear(self) -> None:
        self._direct.clear()
        for pool in self._proxied.values():
            if isinstance(pool, urllib3.PoolManager):
                pool.clear()


def _proxy_login(proxy: str) -> dict[str, str] | None:
    """``Proxy-Authorization`` for a proxy URL with a login (``http://u:p@host``),
    as requests sent it; urllib3 does not read it from the URL."""
    user, password = get_auth_from_url(proxy)
    if not user:
        return None
    return urllib3.make_headers(proxy_basic_auth=f"{user}:{password}")


def read_retry(retries: int, backoff: float) -> Retry:
    """urllib3's retry of a read (GET): connect and read errors, and 5xx answers."""
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=frozenset(range(500, 600)),
        backoff_factor=backoff,
        respect_retry_after_header=False,  # a 429 waits its (capped) Retry-After here
        raise_on_status=False,  # the last answer is mapped to an error as usual
        raise_on_redirect=False,
    )
