"""English text that remembers its msgid, so a surface can translate it later.

Errors and hints are made deep in the bot (rules, settings) where nobody knows who will
read them. They stay plain English strings for logs, exceptions and the audit trail,
and a surface that knows its reader calls ``tr.gettext(text)`` to show them translated.
"""

from __future__ import annotations

from typing import Any


class Deferred(str):
    """A ``str`` whose value is the English text; ``msgid`` and ``params`` rebuild it.

    Any string operation (concatenation, f-string) gives a plain ``str`` again, which
    surfaces show as it is: marking is an addition, never a requirement.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, params: dict[str, Any]) -> Deferred:
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid = msgid
        text.params = dict(params)
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return (Deferred, (self.msgid, self.params))


def N_(msgid: str, /, **params: Any) -> Deferred:  # noqa: N802 (gettext's marker name)
    """Mark ``msgid`` for extraction (``pybabel``) and translate it later, not now."""
    return Deferred(msgid, params)
