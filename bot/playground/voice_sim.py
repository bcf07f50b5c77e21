"""The simulator's voice campaigns: ``POST /voice-campaign/send`` makes a phone ring.

The page shows each ringing call with *Answer and press 1*, *Busy* and *Refuse*; each
posts the matching voice receipt to the bot's callback URL, as Octopush would after
the call ends (``channel: voice_sms``; the key in ``meta_data.pressed_keys_code``,
the place the bot's parser tries first: Octopush's own place is UNCONFIRMED).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bot.playground.changes import Changes
from bot.playground.phones import CallbackPoster, octopush_date

VOICE_PATH = "/voice-campaign/send"
PRICE_PER_CALL = 0.1
TEXT_MAX = 1224

#: What the page's buttons do: the receipt status, and the keys pressed.
ANSWERS: dict[str, tuple[str, str | None]] = {
    "answer": ("DELIVERED", "1"),
    "busy": ("BUSY", None),
    "refuse": ("REFUSED", None),
}

Answer = tuple[int, dict[str, Any]]
#: Takes the cost from the account's credit; the credit left, or None when short.
Charge = Callable[[float], float | None]


@dataclass
class PhoneCall:
    """One call to a simulated phone: ``ringing`` until a button on the page ends it."""

    id: int
    number: str
    text: str
    ticket: str
    language: str
    state: str = "ringing"
    epoch: float = 0.0


class VoiceSimulator:
    """The calls the gateway made, and the receipts their endings post."""

    def __init__(
        self, *, changes: Changes, callbacks: CallbackPoster, charge: Charge
    ) -> None:
        self._changes = changes
        self._callbacks = callbacks
        self._charge = charge
        self._lock = threading.Lock()
        self._calls: list[PhoneCall] = []
        self._ids = itertools.count(1)
        self._request_ids: set[str] = set()

    def send(self, raw: bytes) -> Answer:
        """Answer ``POST /voice-campaign/send`` like Octopush (``vocal_ticket``)."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"code": 100, "message": "The request body is not JSON."}
        problem = _problem(body)
        if problem is not None:
            return problem
        numbers = [str(r["phone_number"]) for r in body["recipients"]]
        request_id = body.get("request_id")
        with self._lock:
            if request_id and str(request_id) in self._request_ids:
                return 400, {
                    "code": 120,
                    "message": "A campaign with the same request_id was already sent.",
                }
        cost = round(PRICE_PER_CALL * len(numbers), 4)
        if self._charge(cost) is None:
            return 400, {
                "code": 104,
                "message": "Your credit is insufficient to send this message.",
            }
        ticket = f"vocal_{secrets.token_hex(7)[:13]}"
        with self._lock:
            if request_id:
                self._request_ids.add(str(request_id))
            for number in numbers:
                self._calls.append(
                    PhoneCall(
                        next(self._ids),
                        number,
                        str(body["text"]),
                        ticket,
                        str(body["voice_language"]),
                        epoch=time.time(),
                    )
                )
        self._changes.bump()
        return 201, {
            "vocal_ticket": ticket,
            "number_of_contacts": len(numbers),
            "total_cost": cost,
        }

    def end(self, call_id: int, answer: str) -> bool:
        """End a ringing call as the page's button says; False if it is not ringing."""
        status, keys = ANSWERS[answer]
        with self._lock:
            call = next((c for c in self._calls if c.id == call_id), None)
            if call is None or call.state != "ringing":
                return False
            call.state = answer
        payload: dict[str, Any] = {
            "channel": "voice_sms",
            "message_id": call.ticket,
            "number": call.number,
            "status": status,
            "delivery_date": octopush_date(),
            "meta_data": {
                "call_duration": 15 if keys else 0,
                "charged_duration": 15 if keys else 0,
                **({"pressed_keys_code": keys} if keys else {}),
            },
        }
        self._callbacks.post(payload)
        self._changes.bump()
        return True

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(call) for call in self._calls]


def _problem(body: object) -> Answer | None:
    if not isinstance(body, dict):
        return 400, {"code": 100, "message": "The request body is not an object."}
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        return 400, {"code": 103, "message": "The recipients list is missing."}
    if not all(isinstance(r, dict) and r.get("phone_number") for r in recipients):
        return 400, {"code": 110, "message": "A recipient has no phone_number."}
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return 400, {"code": 107, "message": "The text is missing."}
    if len(text) > TEXT_MAX:
        return 400, {"code": 102, "message": "The text is too long."}
    if not isinstance(body.get("voice_language"), str):
        return 400, {"code": 100, "message": "voice_language is missing."}
    return None
