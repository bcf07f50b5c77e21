"""Reading a submitted send form back: a draft to send, or inline errors to show.

Kept apart from :mod:`bot.slack.views.modals`, which builds the form: this side distrusts the
payload (any part may be missing or malformed, and nothing here raises), the builders
do not. Both take every id from :mod:`bot.slack.ids`, so they cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.domain import Purpose, SendDraft, SmsType
from bot.errors import InputError
from bot.i18n import N_, Translator, joined
from bot.slack import ids
from bot.slack.views.blocks import truncate

#: Inline errors stay short: they are shown under a form field.
ERROR_MAX = 500

_E = TypeVar("_E", SmsType, Purpose)
_SPLIT = re.compile(r"[,\n]")


@dataclass(frozen=True)
class ModalSubmission:
    """What a submitted form asks for, plus where to post the result."""

    draft: SendDraft
    channel_id: str | None
    response_url: str | None
    #: Slack user ids picked in the people field (in ``draft.recipients`` as mentions).
    people: tuple[str, ...] = ()


def read_sms_modal(
    view: Mapping[str, Any], *, response_urls: Sequence[Mapping[str, Any]] = ()
) -> ModalSubmission | dict[str, str]:
    """Read a submitted form into a draft, or ``{block_id: message}`` for inline errors.

    Tokens are kept as typed: :mod:`bot.phones` reads them later with the directory.
    A malformed payload never raises; missing parts read as empty.
    """
    values = _dict(_dict(_dict(view).get("state")).get("values"))

    def read(block_id: str, action_id: str, key: str) -> Any:
        return _dict(_dict(values.get(block_id)).get(action_id)).get(key)

    typed = _text(read(ids.RECIPIENTS_BLOCK, ids.RECIPIENTS_INPUT, "value"))
    tokens = [token.strip() for token in _SPLIT.split(typed) if token.strip()]
    picked = read(ids.PEOPLE_BLOCK, ids.PEOPLE_SELECT, "selected_users")
    users = picked if isinstance(picked, list) else []
    people = tuple(dict.fromkeys(user for user in users if _is_id(user)))
    text = _text(read(ids.TEXT_BLOCK, ids.TEXT_INPUT, "value"))
    channel = _text(
        read(ids.CHANNEL_BLOCK, ids.CHANNEL_SELECT, "selected_conversation")
    )
    errors: dict[str, str] = {}
    if not tokens and not people:
        errors[ids.RECIPIENTS_BLOCK] = N_(
            "Add at least one phone number, name or person"
        )
    if not text.strip():
        errors[ids.TEXT_BLOCK] = N_("Write the message to send")
    if not channel:
        errors[ids.CHANNEL_BLOCK] = N_("Pick the channel where the result is posted")
    if errors:
        return errors
    checked = _values(
        read(ids.OPTIONS_BLOCK, ids.OPTIONS_CHECKBOXES, "selected_options")
    )
    draft = SendDraft(
        recipients=(*tokens, *(f"<@{user}>" for user in people)),
        text=text,
        sender=_text(read(ids.SENDER_BLOCK, ids.SENDER_INPUT, "value")).strip() or None,
        sms_type=_enum(
            SmsType, read(ids.TYPE_BLOCK, ids.TYPE_SELECT, "selected_option")
        ),
        purpose=_enum(
            Purpose, read(ids.PURPOSE_BLOCK, ids.PURPOSE_SELECT, "selected_option")
        ),
        send_at=_timestamp(
            read(ids.SEND_AT_BLOCK, ids.SEND_AT_PICKER, "selected_date_time")
        ),
        with_replies=ids.OPTION_REPLIES in checked,
        simulation=ids.OPTION_SIMULATION in checked,
    )
    return ModalSubmission(
        draft=draft,
        channel_id=channel,
        response_url=_response_url(response_urls, channel),
        people=people,
    )


def errors_for_modal(error: InputError, tr: Translator | None = None) -> dict[str, str]:
    """``error.problems`` keyed by the form block showing each field (for ``ack``).

    With ``tr``, each is translated before it is shortened (a cut text is no msgid).
    """
    errors: dict[str, str] = {}
    for field, problem in error.problems.items():
        block = ids.FIELD_BLOCKS.get(field, ids.TEXT_BLOCK)
        errors[block] = joined([errors[block], problem]) if block in errors else problem
    return {
        block: truncate(tr.gettext(problem) if tr else problem, ERROR_MAX)
        for block, problem in errors.items()
    }


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _is_id(value: object) -> bool:
    return isinstance(value, str) and value.isalnum()


def _values(options: object) -> set[str]:
    """The values of checked options (``selected_options``)."""
    found = (_dict(option).get("value") for option in _list(options))
    return {value for value in found if isinstance(value, str)}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _enum(kind: type[_E], option: object) -> _E | None:
    """The enum member an option (``selected_option``) stands for, if any."""
    value = _dict(option).get("value")
    try:
        return kind(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _timestamp(raw: object) -> datetime | None:
    """A picker's unix seconds as an aware UTC time; None when absent or absurd."""
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _response_url(entries: Sequence[Any], channel: str) -> str | None:
    """The ``response_urls`` entry for the chosen channel, else the first one."""
    usable = [
        _dict(entry) for entry in entries if _text(_dict(entry).get("response_url"))
    ]
    match = next((e for e in usable if e.get("channel_id") == channel), None)
    chosen = match or (usable[0] if usable else None)
    return str(chosen["response_url"]) if chosen is not None else None
