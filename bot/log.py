"""Logging for ``serve`` and the CLI: a setup function, a secret filter, number masking.

Importing this module changes nothing; only :func:`configure_logging` touches handlers.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers

_BULLET = "\u2022"
#: A run of 6+ digits, with the separators people type, optionally after a ``+``.
_PHONE_LIKE = re.compile(r"\+?\d(?:[\s.\-()/]?\d){5,}")


@lru_cache(maxsize=4096)
def mask_number(number: str) -> str:
    """Hide the middle of a phone number: ``+33612345678`` → ``+33 6 •• •• •• 78``.

    Channel posts and log lines show only this; full numbers live in the audit trail.
    Remembered: every send logs its numbers, and parsing one is most of the cost.
    """
    try:
        parsed = phonenumbers.parse(number, None)
        shown = phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        prefix = f"+{parsed.country_code}"
    except phonenumbers.NumberParseException:
        shown, prefix = number, ""
    head, rest = shown[: len(prefix)], shown[len(prefix) :]
    digits = [i for i, char in enumerate(rest) if char.isdigit()]
    keep = set(digits[:1] + digits[-2:]) if len(digits) > 4 else set(digits[-1:])
    masked = "".join(
        _BULLET if i in digits and i not in keep else char
        for i, char in enumerate(rest)
    )
    return head + masked


def scrub_numbers(text: str) -> str:
    """Mask anything in ``text`` that looks like a phone number (log lines, errors)."""
    return _PHONE_LIKE.sub(lambda match: mask_number(match.group(0)), text)


class SecretRedactingFilter(logging.Filter):
    """Replace the literal value of every secret in a log record by ``[redacted]``.

    Belt and braces: secrets are ``SecretStr`` and never formatted, but a third-party
    library could still log a header or a URL that carries one.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if s and len(s) >= 4}, key=len, reverse=True
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message or record.exc_info:
            record.msg, record.args = redacted, None
            if record.exc_info:
                formatted = logging.Formatter().formatException(record.exc_info)
                record.exc_text = self.redact(formatted)
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(
    level: str | int = "INFO", *, secrets: Iterable[str] = ()
) -> None:
    """Log to stderr with secrets redacted; called by entry points only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(SecretRedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
