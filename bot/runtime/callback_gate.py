"""Who may post an Octopush callback: the token in the URL, and where it comes from.

Octopush signs nothing, so the URL's token is the guard of a forged ``STOP`` (which opts
an on-call person out) or a forged ``ACK``. Two tokens are accepted during a rotation
(``OCTOPUSH_CALLBACK_TOKEN`` and ``OCTOPUSH_CALLBACK_TOKEN_PREVIOUS``), and an optional
allow-list (``OCTOPUSH_CALLBACK_ALLOW``) fences the URL to Octopush's networks.

The client's address is the TCP peer, unless the peer is a trusted proxy
(``SMS_TRUSTED_PROXIES``): then ``X-Forwarded-For`` is read from the right, skipping
trusted proxies, and the first other address is the client. A client can prepend what
it likes to that header, but never past the address its proxy appended.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from bot.config import Network, Settings

Address = IPv4Address | IPv6Address


class Refusal(Enum):
    """Why a callback was refused (the ``reason`` label of the refusal counter)."""

    #: No token matches, or callbacks are off (no token set).
    TOKEN = "token"
    #: The client address is not in ``OCTOPUSH_CALLBACK_ALLOW`` (or is unknown).
    SOURCE = "source"


@dataclass(frozen=True)
class CallbackGate:
    """Accepts a callback when its token is one of ``tokens`` and, with an ``allow``
    list, when its client address is in it; no tokens means every one is refused."""

    tokens: tuple[str, ...] = ()
    allow: tuple[Network, ...] = ()
    trusted_proxies: tuple[Network, ...] = ()

    def __repr__(self) -> str:
        # Never the tokens: this object may end up in a log or a traceback.
        return (
            f"CallbackGate(tokens=<{len(self.tokens)} hidden>, allow={self.allow!r}, "
            f"trusted_proxies={self.trusted_proxies!r})"
        )

    @classmethod
    def for_token(cls, token: str | None) -> CallbackGate:
        """One token, no allow-list."""
        return cls(tokens=(token,) if token else ())

    @classmethod
    def from_settings(cls, settings: Settings) -> CallbackGate:
        """The gate of ``OCTOPUSH_CALLBACK_*`` and ``SMS_TRUSTED_PROXIES``; the previous
        token counts only beside a current one (the settings refuse it alone)."""
        octopush = settings.octopush
        current, previous = octopush.callback_token, octopush.callback_token_previous
        tokens = tuple(
            secret.get_secret_value()
            for secret in (current, previous if current else None)
            if secret is not None and secret.get_secret_value()
        )
        return cls(
            tokens=tokens,
            allow=octopush.callback_allow,
            trusted_proxies=settings.sms.trusted_proxies,
        )

    def refusal(self, token: str, environ: Mapping[str, Any]) -> Refusal | None:
        """``None`` to accept; else why not. Both refusals look the same outside."""
        if self.allow:
            client = self.client_address(environ)
            if client is None or not _within(client, self.allow):
                return Refusal.SOURCE
        if not self._known(token):
            return Refusal.TOKEN
        return None

    def client_address(self, environ: Mapping[str, Any]) -> Address | None:
        """The client as the trusted proxies saw it; ``None`` when it cannot be read."""
        peer = _address(str(environ.get("REMOTE_ADDR") or ""))
        if peer is None or not _within(peer, self.trusted_proxies):
            return peer
        forwarded = str(environ.get("HTTP_X_FORWARDED_FOR") or "")
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        client = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return None
            client = address
            if not _within(address, self.trusted_proxies):
                return address
        # Every hop is a trusted proxy: the leftmost one made the request.
        return client

    def _known(self, token: str) -> bool:
        """Constant time, and every token compared: timing tells nothing."""
        given = token.encode()
        matched = False
        for expected in self.tokens:
            matched |= hmac.compare_digest(given, expected.encode())
        return matched


def _within(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def _address(text: str) -> Address | None:
    """An address as proxies write it: ``203.0.113.7``, ``203.0.113.7:4711``,
    ``2001:db8::1`` or ``[2001:db8::1]:4711``; IPv4 mapped in IPv6 counts as IPv4."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
