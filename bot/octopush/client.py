"""A small, thread-safe client for the Octopush SMS API v1.

The public methods live here; every call goes through :class:`Transport` (timeouts,
retries, logging, in :mod:`bot.octopush.transport`), and every error answer is mapped
in :func:`bot.octopush.answers.raise_for_response`. Only :mod:`bot.octopush.errors`
exceptions leave this package.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from . import codes
from .answers import json_object, response_error
from .errors import OctopushBatchError, OctopushError
from .models import Balance, SmsCampaign, SmsCampaignResult
from .transport import Transport
from .voice import VoiceCampaign, VoiceCampaignResult

DEFAULT_BASE_URL = "https://api.octopush.com/v1/public"


class OctopushClient:
    """Sends SMS campaigns and reads the balance, with timeouts and safe retries.

    One instance may be shared between threads: it keeps no per-call state, and its
    urllib3 connection pools are thread-safe. A send is retried
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
        user_agent: str = "sms-bot-octopush/0.1",
        pool_size: int = 32,
    ) -> None:
        if not api_login or not api_key:
            raise ValueError("api_login and api_key are both required")
        if max_retries < 0 or backoff < 0:
            raise ValueError("max_retries and backoff must not be negative")
        #: The account e-mail, sent as ``api-login``.
        self.api_login = api_login
        #: The HTTP layer: retries, timeouts, error mapping (``transport.sleep`` waits).
        self.transport = Transport(
            base_url=base_url.rstrip("/"),
            headers={
                "api-login": api_login,
                "api-key": api_key,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": user_agent,
                "cache-control": "no-cache",
            },
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            get_retries=self.balance_retries,
            backoff=backoff,
            pool_size=pool_size,
        )

    @property
    def base_url(self) -> str:
        """The API root, e.g. ``https://api.octopush.com/v1/public``."""
        return self.transport.base_url

    @base_url.setter
    def base_url(self, url: str) -> None:
        self.transport.base_url = url.rstrip("/")

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeouts in seconds, for each attempt."""
        return self.transport.timeout

    @property
    def max_retries(self) -> int:
        """Extra attempts for a send, when a repeat is safe."""
        return self.transport.max_retries

    @property
    def backoff(self) -> float:
        """Seconds before the first retry of a send, doubled after each."""
        return self.transport.backoff

    def __repr__(self) -> str:
        return (
            f"OctopushClient(api_login={self.api_login!r}, base_url={self.base_url!r})"
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.transport.close()

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
        response = self.transport.request(
            "GET", "/wallet/check-balance", retries=self.balance_retries
        )
        redact = self.transport.redact
        try:
            return Balance.model_validate(json_object(response, None, redact))
        except ValidationError as exc:
            what = codes.N_("a balance without a numeric amount and a unit")
            raise response_error(response, None, what, redact) from exc

    def cancel_sms_campaign(self, ticket: str) -> None:
        """Cancel a scheduled campaign (``DELETE /sms-campaign/cancel``, 204).

        Octopush allows it only for a campaign to fewer than 3 recipients, still more
        than 10 minutes ahead, and 1,000 times a month per API user; it answers 400
        otherwise. Not retried (but after a 429): a repeat after a lost answer would
        be refused as if nothing had been cancelled.

        Raises:
            OctopushError: Octopush refused, or did not answer (``maybe_sent`` is False:
                a cancel sends nothing).
        """
        if not ticket or "," in ticket:
            raise ValueError("one Octopush ticket is needed to cancel a campaign")
        self.transport.request(
            "DELETE",
            "/sms-campaign/cancel",
            {"ticket_number": ticket},
            retries=self.max_retries,
        )

    def send_voice_campaign(self, campaign: VoiceCampaign) -> VoiceCampaignResult:
        """Call ``campaign``'s numbers and read its text aloud; Octopush's ticket.

        Retried like an SMS send (only with a ``request_id`` after a read timeout).

        Raises:
            OctopushError: as :meth:`send_sms_campaign` (``maybe_sent`` included).
        """
        body = campaign.to_json()
        request_id = body.get("request_id")
        response = self.transport.request(
            "POST", "/voice-campaign/send", body, request_id, retries=self.max_retries
        )
        redact = self.transport.redact
        data = json_object(response, request_id, redact)
        try:
            return VoiceCampaignResult.model_validate(data)
        except ValidationError as exc:
            what = codes.N_("a success without a usable voice ticket")
            raise response_error(response, request_id, what, redact) from exc

    def get_voice_balance(self, country_code: str) -> Balance:
        """The voice credit for calls to ``country_code`` (``vocal_sms`` product).

        Raises:
            OctopushError: the credit could not be read; an account without voice
                enabled answers with an error or no amount.
        """
        response = self.transport.request(
            "GET",
            "/wallet/check-balance?"
            + urlencode({"product_name": "vocal_sms", "country_code": country_code}),
            retries=self.balance_retries,
        )
        redact = self.transport.redact
        try:
            return Balance.model_validate(json_object(response, None, redact))
        except ValidationError as exc:
            what = codes.N_("a balance without a numeric amount and a unit")
            raise response_error(response, None, what, redact) from exc

    def _send_batch(self, body: dict[str, Any]) -> SmsCampaignResult:
        request_id = body.get("request_id")
        response = self.transport.request(
            "POST", "/sms-campaign/send", body, request_id, retries=self.max_retries
        )
        redact = self.transport.redact
        data = json_object(response, request_id, redact)
        data.pop("tickets", None)  # ours, not Octopush's
        try:
            if not isinstance(data.get("sms_ticket"), str):
                raise ValueError("no sms_ticket")
            return SmsCampaignResult.model_validate(data)
        except (ValueError, ValidationError) as exc:
            what = codes.N_("a success without a usable sms_ticket")
            raise response_error(response, request_id, what, redact) from exc
