from __future__ import annotations

import logging

import pytest

from bot.log import SecretRedactingFilter, mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+33612345678", "+33 6 •• •• •• 78"),
        ("+447911123456", "+44 7••• ••••56"),
    ],
)
def test_mask_number_keeps_country_first_digit_and_last_two(
    number: str, masked: str
) -> None:
    assert mask_number(number) == masked


def test_mask_number_hides_most_digits_of_anything() -> None:
    masked = mask_number("not a number 123456")
    assert "1234" not in masked
    assert masked.endswith("56")


def test_redacting_filter_replaces_secrets_in_messages_args_and_tracebacks() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(SecretRedactingFilter(["xoxb-secret-token", "api-key-42"]))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("token %s in a message", "xoxb-secret-token")
        try:
            raise RuntimeError("header api-key-42 leaked")
        except RuntimeError:
            log.exception("boom")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    assert "xoxb-secret-token" not in text
    assert "api-key-42" not in text
    assert "token [redacted] in a message" in text
    assert "RuntimeError: header [redacted] leaked" in text
