"""An Octopush v1 gateway on the playground's port, following docs/octopush-api.md.

``POST /sms-campaign/send`` answers a ticket, the SMS count (our segment rules), the
cost (a price per SMS) and the credit left, which goes down; ``GET /wallet/check-balance``
answers the credit. The page can make the next send fail with a documented code.
A little after each premium send, a delivery receipt goes to the bot's callback URL.
``DELETE /sms-campaign/cancel`` takes back a scheduled send by Octopush's rules
(:mod:`bot.playground.sim_cancel`).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.playground.changes import Changes
from bot.playground.phones import CallbackPoster, PhoneBook, octopush_date
from bot.playground.sim_cancel import CANCEL_PATH, ScheduledCampaign, ScheduledCampaigns
from bot.playground.voice_sim import VOICE_PATH, VoiceSimulator
from bot.sending.segments import analyse

SEND_PATH = "/sms-campaign/send"
BALANCE_PATH = "/wallet/check-balance"
MAX_RECIPIENTS = 500
TEXT_MAX = 1224
#: The short number that replaces the sender of a ``with_replies`` send.
REPLY_SHORT_CODE = "38100"
DEFAULT_SENDER = "Octopush"
_SENDER = re.compile(r"^[A-Za-z0-9]{3,11}$")
_STOP_MENTION = "STOP au 30101"

#: Failures the page can ask for: code -> (HTTP status, Octopush's message).
TRIGGERABLE: dict[str, tuple[int, str]] = {
    "104": (400, "Your credit is insufficient to send this message."),
    "105": (400, "Your credit is insufficient; your last order is being validated."),
    "106": (400, "The sender is invalid: 3 to 11 alphanumeric characters."),
    "101": (401, "Invalid api-login or api-key."),
    "121": (400, "STOP mention ([STOP au 30101]) is missing from your text."),
    "500": (500, "Internal server error."),
}

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Receipts:
    """What the gateway reports after a send: ``DELIVERED``, ``NOT_DELIVERED`` or off."""

    status: str | None = "DELIVERED"
    delay: float = 2.0


class OctopushSimulator:
    """The gateway and its account: credit, tickets, request ids, phones and callbacks."""

    def __init__(
        self,
        *,
        api_login: str,
        api_key: str,
        changes: Changes,
        credit: float = 25.0,
        price_per_sms: float = 0.045,
        receipts: Receipts | None = None,
    ) -> None:
        self._login, self._key = api_login, api_key
        self._changes = changes
        self._lock = threading.Lock()
        self.credit = credit
        self.price_per_sms = price_per_sms
        self.receipts = receipts or Receipts()
        self.fail_next: str | None = None
        self.phones = PhoneBook(changes)
        self.callbacks = CallbackPoster()
        self._request_ids: set[str] = set()
        self.sends = 0
        #: Scheduled campaigns not out yet: ``DELETE /sms-campaign/cancel`` finds them.
        self.scheduled = ScheduledCampaigns()
        #: Voice campaigns: phones that ring on the page (issue 22).
        self.voice = VoiceSimulator(
            changes=changes, callbacks=self.callbacks, charge=self.charge
        )

    # --- the HTTP API -----------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        """Answer one request to the v1 API (``path`` below ``/v1/public``)."""
        refused = self._authenticate(headers)
        if refused is not None:
            return refused
        if method == "GET" and path == BALANCE_PATH:
            with self._lock:
                return 200, {"amount": round(self.credit, 4), "unit": "euros"}
        if method == "POST" and path == SEND_PATH:
            return self._send(body)
        if method == "DELETE" and path == CANCEL_PATH:
            return self._cancel(body)
        if method == "POST" and path == VOICE_PATH:
            return self.voice.send(body)
        return 404, {"code": 404, "message": f"No route for {method} {path}"}

    def _authenticate(self, headers: dict[str, str]) -> Answer | None:
        login, key = headers.get("api-login"), headers.get("api-key")
        if not login or not key:
            return 401, {"code": 108, "message": "api-login or api-key missing."}
        if login != self._login or not hmac.compare_digest(key, self._key):
            return 401, {"code": 101, "message": "Invalid api-login or api-key."}
        return None

    def _send(self, raw: bytes) -> Answer:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"code": 100, "message": "The request body is not JSON."}
        if not isinstance(body, dict):
            return 400, {"code": 100, "message": "The request body is not an object."}
        problem = _problem(body)
        if problem is not None:
            return problem
        numbers = [str(r["phone_number"]) for r in body["recipients"]]
        text = str(body["text"])
        parts = analyse(text).parts
        cost = round(parts * len(numbers) * self.price_per_sms, 4)
        simulated = bool(body.get("simulation_mode"))
        with self._lock:
            forced, self.fail_next = self.fail_next, None
            if forced is not None:
                status, message = TRIGGERABLE[forced]
                self._changes.bump()
                return status, {"code": int(forced), "message": message}
            request_id = body.get("request_id")
            if request_id and str(request_id) in self._request_ids:
                return 400, {
                    "code": 120,
                    "message": "A SMS with the same request_id has already been sent.",
                }
            if not simulated and cost > self.credit:
                return 400, {"code": 104, "message": TRIGGERABLE["104"][1]}
            if request_id and not simulated:
                self._request_ids.add(str(request_id))
            if not simulated:
                self.credit -= cost
                self.sends += 1
            residual = round(self.credit, 4)
        ticket = f"sms_{secrets.token_hex(7)[:13]}"
        if not simulated:
            self._deliver(body, numbers, text, ticket, cost=cost)
        self._changes.bump()
        return 201, {
            "sms_ticket": ticket,
            "number_of_contacts": len(numbers),
            "number_of_sms_needed": parts,
            "total_cost": cost,
            "residual_credit": residual,
        }

    def _cancel(self, raw: bytes) -> Answer:
        answer, refund = self.scheduled.cancel(raw)
        if refund:
            with self._lock:
                self.credit += refund
        self._changes.bump()
        return answer

    def _deliver(
        self,
        body: dict[str, Any],
        numbers: list[str],
        text: str,
        ticket: str,
        *,
        cost: float = 0.0,
    ) -> None:
        sender = str(body.get("sender") or DEFAULT_SENDER)
        if body.get("with_replies"):
            sender = REPLY_SHORT_CODE
        delay = _seconds_until(body.get("send_at"))

        def arrive() -> None:
            self.scheduled.went_out(ticket)
            for number in numbers:
                self.phones.deliver(number, sender=sender, text=text, ticket=ticket)
            status = self.receipts.status
            if status and body.get("type") == "sms_premium":  # DLRs: premium only
                for number in numbers:
                    self.receipt(
                        number, status, ticket=ticket, delay=self.receipts.delay
                    )

        if delay > 0:
            timer = threading.Timer(delay, arrive)
            timer.daemon = True
            when = datetime.now(UTC) + timedelta(seconds=delay)
            self.scheduled.keep(
                ticket, ScheduledCampaign(when, len(numbers), cost, timer)
            )
            timer.start()
        else:
            arrive()

    def charge(self, cost: float) -> float | None:
        """Take ``cost`` from the credit; the credit left, or None when it is short."""
        with self._lock:
            if cost > self.credit:
                return None
            self.credit -= cost
            return round(self.credit, 4)

    # --- what the page does -------------------------------------------------------------

    def set_fail_next(self, code: str | None) -> None:
        if code is not None and code not in TRIGGERABLE:
            raise ValueError(f"unknown code {code!r}")
        with self._lock:
            self.fail_next = code
        self._changes.bump()

    def set_receipts(self, status: str | None) -> None:
        self.receipts = Receipts(status=status, delay=self.receipts.delay)
        self._changes.bump()

    def receipt(
        self,
        number: str,
        status: str,
        *,
        ticket: str | None = None,
        delay: float = 0.0,
    ) -> bool:
        """Post a delivery receipt for ``ticket`` (default: the number's last SMS)."""
        ticket = ticket or self.phones.last_ticket(number)
        if ticket is None:
            return False

        def shown() -> None:
            self.phones.set_status(number, ticket, status.lower().replace("_", " "))

        payload = {
            "channel": "sms",
            "message_id": ticket,
            "number": number,
            "status": status,
            "delivery_date": octopush_date(),
        }
        self.callbacks.post(payload, delay=delay, before=shown)
        return True

    def reply(self, number: str, text: str) -> None:
        """The phone answers: an inbound callback, or an opt-out one for STOP."""
        self.phones.answer(number, text)
        ticket = self.phones.last_ticket(number)
        now = octopush_date()
        if text.strip().upper() == "STOP":
            payload: dict[str, Any] = {
                "message_id": ticket,
                "number": number,
                "text": text,
                "stop_date": now,
            }
        else:
            payload = {
                "message_id": ticket,
                "number": number,
                "text": text,
                "sim_card_number": REPLY_SHORT_CODE,
                "reception_date": now,
            }
        self.callbacks.post(payload)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "credit": round(self.credit, 4),
                "unit": "euros",
                "price_per_sms": self.price_per_sms,
                "fail_next": self.fail_next,
                "receipts": self.receipts.status,
                "codes": {code: m for code, (_s, m) in TRIGGERABLE.items()},
            }

    def close(self) -> None:
        self.callbacks.close()


def _problem(body: dict[str, Any]) -> Answer | None:
    """The documented validation errors, checked in the order Octopush lists them."""
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        return 400, {"code": 103, "message": "The recipients list is missing."}
    if len(recipients) > MAX_RECIPIENTS:
        return 400, {"code": 122, "message": "At most 500 recipients per request."}
    if not all(isinstance(r, dict) and r.get("phone_number") for r in recipients):
        return 400, {"code": 110, "message": "A recipient has no phone_number."}
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return 400, {"code": 107, "message": "The text is missing."}
    if len(text) > TEXT_MAX:
        return 400, {"code": 102, "message": "The text is too long."}
    if body.get("type") not in ("sms_premium", "sms_low_cost"):
        return 400, {"code": 112, "message": "The SMS type is not defined."}
    sender = body.get("sender")
    if sender is not None and not _SENDER.match(str(sender)):
        return 400, {"code": 106, "message": TRIGGERABLE["106"][1]}
    if body.get("purpose", "wholesale") == "wholesale" and _STOP_MENTION not in text:
        return 400, {"code": 121, "message": TRIGGERABLE["121"][1]}
    return None


def _seconds_until(send_at: object) -> float:
    if not isinstance(send_at, str) or not send_at:
        return 0.0
    try:
        when = datetime.fromisoformat(send_at)
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
