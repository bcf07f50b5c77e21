"""The ack's reading of ``/sms WHO TEXT``, kept with the command it stores.

The sender ran the parser again on the stored text (40-150 µs of CPU per send); it now
takes the reading the ack answered with, so what is sent is also what the ack said.
A row stored by an earlier version has none: the sender parses its text then. Checks
that need lookups (the directory, the guard) still run in the sender.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.slack.grammar import Reading, SmsCommand

logger = logging.getLogger(__name__)

#: The stored command's key for the reading: ``[[recipients, text], ...]``, the
#: reading as typed first, then the alternatives of an ambiguous command.
READING = "reading"
#: A stored send's key for the ack's verdict: true when no reading can be sent (the
#: ack said why; the sender records the refused attempt without judging it again).
REFUSED = "refused"


def keep(parsed: SmsCommand) -> list[Any]:
    """``parsed``'s readings as the queue stores them (JSON)."""
    return [[list(reading.recipients), reading.text] for reading in parsed.readings]


def kept(kind: str, command: Mapping[str, Any]) -> SmsCommand | None:
    """The ack's reading of a stored ``send`` or ``page``; None when the row has none
    (stored by an earlier version) or it cannot be read (logged): parse it then."""
    stored = command.get(READING)
    if stored is None:
        return None
    readings = _readings(stored)
    if not readings:
        logger.warning("a stored /sms %s has an unreadable reading: parsed again", kind)
        return None
    first, *others = readings
    return SmsCommand(
        action=kind,
        recipients=first.recipients,
        text=first.text,
        alternatives=tuple(others),
    )


def _readings(stored: object) -> list[Reading]:
    """The readings, or none when any is not ``[[str, ...], str]``."""
    if not isinstance(stored, list):
        return []
    readings = []
    for item in stored:
        if not (isinstance(item, list) and len(item) == 2):
            return []
        recipients, text = item
        if not (
            isinstance(recipients, list)
            and recipients
            and all(isinstance(token, str) for token in recipients)
            and isinstance(text, str)
        ):
            return []
        readings.append(Reading(tuple(recipients), text))
    return readings
