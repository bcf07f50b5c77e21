"""Octopush hints and the client's own error messages in the reader's language.

``bot.octopush`` imports nothing from ``bot``, so its hints are English strings marked
for extraction. A code's hint is its meaning and action joined by
:data:`bot.octopush.codes.HINT_FORMAT`; it is recognised by its English text, so a
hint that travelled through an outcome or an exception is translated the same way.

A message the client wrote itself ("Octopush did not answer within 10.0 s") keeps its
wording (:class:`bot.octopush.wording.Wording`); :func:`octopush_message` turns it into
a :class:`~bot.i18n.Deferred` equal to the English message. Octopush's own words stay
as Octopush wrote them.
"""

from __future__ import annotations

from bot.i18n.deferred import N_, Deferred, Number
from bot.i18n.translator import Translator
from bot.octopush.codes import CODES, CodeInfo
from bot.octopush.errors import OctopushError
from bot.octopush.wording import Wording

_BY_HINT: dict[str, CodeInfo] = {info.hint: info for info in CODES.values()}


def localized_hint(tr: Translator, hint: str | None) -> str | None:
    """``hint`` translated for ``tr``'s readers; unknown text is shown as it is."""
    if not hint:
        return hint
    info = _BY_HINT.get(hint)
    if info is None:
        return tr.gettext(hint)
    return tr.gettext(
        "%(meaning)s. %(action)s.",
        meaning=tr.gettext(info.meaning),
        action=tr.gettext(info.action),
    )


#: What a sender in Slack is told to do where the action names settings (``101``: the
#: credentials); the CLI, read by operators, keeps the code's own action.
_SENDER_ACTIONS: dict[str, str] = {
    CODES["101"].action: N_(
        "Nothing you can fix from Slack: an admin must check the bot's Octopush "
        "login and key"
    ),
}


def sender_hint(tr: Translator, hint: str | None) -> str | None:
    """:func:`localized_hint` for a Slack reader: no setting names in the action."""
    info = _BY_HINT.get(hint or "")
    action = _SENDER_ACTIONS.get(info.action) if info is not None else None
    if info is None or action is None:
        return localized_hint(tr, hint)
    return tr.gettext(
        "%(meaning)s. %(action)s.",
        meaning=tr.gettext(info.meaning),
        action=tr.gettext(action),
    )


def octopush_message(error: OctopushError) -> str:
    """``error.message``, translatable when the client wrote it (else as it came).

    The result always equals ``error.message`` (logs and the audit trail read the
    same English); a wording that would not, is not used.
    """
    if error.wording is None:
        return error.message
    text = _deferred(error.wording)
    return text if text == error.message else error.message


def _deferred(wording: Wording) -> Deferred:
    params = {key: _value(value) for key, value in wording.params.items()}
    return Deferred(wording.template, params, wording.plural, wording.n)


def _value(value: object) -> object:
    if isinstance(value, Wording):
        return _deferred(value)
    if isinstance(value, float):
        # A timeout (10.0, 0.5) in the reader's way, with the decimals English shows.
        shown = repr(value)
        if "e" not in shown and "." in shown:
            return Number(value, places=len(shown.partition(".")[2]))
    return value
