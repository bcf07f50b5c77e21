"""The bot's own notes read back from the audit trail, translatable again.

The audit trail keeps English (operators grep it). A result rebuilt from a record (a
delivery receipt updating a partly sent post, a duplicate submit answered with the
first result) would show that English to everyone; the notes the bot and its Octopush
client write have known shapes, so :func:`reread` recognises them and makes them
:class:`~bot.i18n.Deferred` texts again, equal to what was stored. Anything else (what
Octopush itself said) is returned as it is.

Each shape is the msgid the note was written with (``bot.sending.delivery``,
``bot.sending.recovery``, ``bot.octopush``); the tests write every note through its
real code path and read it back, so a changed wording cannot go unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.i18n import Deferred, Number

#: Notes with a count: (singular, plural); ``%(n)s`` is the count.
_PLURALS: tuple[tuple[str, str], ...] = (
    ("batch 1", "batches 1 to %(n)s"),
    (
        "batch %(failed)s of %(total)s failed after %(n)s batch had been sent: "
        "%(cause)s",
        "batch %(failed)s of %(total)s failed after %(n)s batches had been sent: "
        "%(cause)s",
    ),
)
_TEMPLATES: tuple[str, ...] = (
    # bot.sending.delivery and bot.sending.outcomes
    "%(error)s. Recipients 1 to %(sent)s of %(total)s were sent (%(batches)s); "
    "recipients %(next)s to %(total)s were not",
    "%(message)s (Octopush may have received it: check its dashboard before resending)",
    "Octopush already had this request (code 120), so an earlier attempt with the "
    "same request_id got through: sent, ticket and cost unknown (see the Octopush "
    "dashboard)",
    "sent on recovery after a crash (the first attempt never reached Octopush)",
    "recovered after a crash: %(note)s",
    "recovered after a crash, resending failed: %(message)s",
    "resending it failed (%(message)s)",
    "outcome unknown: the process stopped during the send and %(why)s; "
    "check the Octopush dashboard before sending again",
    "internal error: %(error)s",
    # bot.sending.recovery
    "too old to resend safely",
    "its text was redacted, so it cannot be resent",
    "it cannot be rebuilt for a resend (invalid %(fields)s)",
    "not sent: the attempt did not go out, and the process that sent it stopped "
    "before recording that; it was not sent again",
    "not sent: Octopush refused it (code %(code)s), and the process that sent it "
    "stopped before recording that; it was not sent again",
    # bot.octopush (transport, answers, client)
    "timed out connecting to Octopush (after %(seconds)s s)",
    "could not send the request to Octopush: %(reason)s",
    "Octopush did not answer within %(seconds)s s",
    "could not connect to Octopush: %(reason)s",
    "the connection to Octopush broke: %(reason)s",
    "request_id %(request_id)s was already used (code 120) when the send was "
    "retried: the first attempt reached Octopush, so the SMS was probably sent. "
    "Check the Octopush dashboard before resending.",
    "Octopush answered HTTP %(status)s with %(what)s: %(body)s",
    "Octopush answered HTTP %(status)s: %(body)s",
    "Octopush answered HTTP %(status)s",
    "an error that is not JSON",
    "a body that is not a JSON object",
    "a success without a usable sms_ticket",
    "an empty body",
)
#: How deep notes quote notes (a recovered resend of a stopped batch is 4 deep).
_MAX_DEPTH = 6
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: A decimal such as a timeout (``2.5``): shown the reader's way (``2,5``).
_DECIMAL = re.compile(r"\d{1,3}\.\d+")


@dataclass(frozen=True)
class _Shape:
    pattern: re.Pattern[str]
    msgid: str
    plural: str | None = None


def _compile(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = match.group(1)
        if name in seen:
            parts.append(f"(?P={name})")
        elif name == "n":
            parts.append(r"(?P<n>\d+)")
        else:
            parts.append(f"(?P<{name}>.+?)")
        seen.add(name)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts), re.DOTALL)


def _shapes() -> list[_Shape]:
    shapes = [_Shape(_compile(t), t) for t in _TEMPLATES]
    for singular, plural in _PLURALS:
        shapes += [
            _Shape(_compile(singular), singular, plural),
            _Shape(_compile(plural), singular, plural),
        ]
    return shapes


_SHAPES = _shapes()


def reread(text: str | None, _depth: int = 0) -> str | None:
    """``text`` as a translatable note when the bot wrote it; else as it is."""
    if not text or isinstance(text, Deferred) or _depth > _MAX_DEPTH:
        return text
    for shape in _SHAPES:
        match = shape.pattern.fullmatch(text)
        if match is None:
            continue
        found = match.groupdict()
        n = None
        if shape.plural is not None:  # a singular without %(n)s is the count 1
            n = int(found.pop("n")) if "n" in found else 1
        params = {key: _value(value, _depth + 1) for key, value in found.items()}
        note = Deferred(shape.msgid, params, shape.plural, n)
        if note == text:  # the other plural form, or a quirk of matching: not ours
            return note
    return text


def _value(text: str, depth: int) -> object:
    if _DECIMAL.fullmatch(text):
        return Number(float(text), places=len(text.partition(".")[2]))
    return reread(text, depth)
