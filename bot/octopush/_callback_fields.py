"""Low-level reading of Octopush callback bodies: body decoding and field coercion.

Kept apart from :mod:`bot.octopush.callbacks` so that module holds only the typed
events and the rules that pick one. Everything here is pure and tolerant: a value it
cannot read becomes ``None``; only a body it cannot read at all raises
:class:`CallbackParseError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from urllib.parse import unquote_to_bytes

#: Bodies above this size are refused: a real callback is well under 1 KiB.
MAX_BODY_BYTES = 64 * 1024

#: Fields that show a mapping is an Octopush callback and not a wrapper around one.
KNOWN_FIELDS = frozenset(
    {
        "number",
        "message_id",
        "status",
        "text",
        "delivery_date",
        "reception_date",
        "answer_date",
        "stop_date",
    }
)

#: Form fields whose leading ``+`` is kept: an unencoded ``+33…`` means a number.
_NUMBER_FIELDS = frozenset({"number", "sim_card_number"})

_SEPARATORS = re.compile(r"[\s\-./()]")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_INTERNATIONAL_PREFIX = re.compile(r"00[1-9][0-9]{1,14}")
_OCTOPUSH_DATE = "%Y-%m-%d %H:%M:%S"

Fields = Mapping[str, object]


class CallbackParseError(ValueError):
    """A callback body that is not a readable Octopush callback.

    The message is a short reason and quotes at most about 100 characters of the
    body, so it can be logged without flooding the log with whatever was posted.
    """


def snippet(text: str, limit: int = 60) -> str:
    """``repr`` of ``text`` cut to about ``limit`` characters, for error messages."""
    quoted = repr(text)
    return quoted if len(quoted) <= limit else quoted[:limit] + "…"


def decode_body(body: bytes, content_type: str | None) -> dict[str, object]:
    """Turn a JSON or form-encoded body into a flat mapping of lower-cased field names.

    JSON is tried whenever the content type says so or the body looks like an object,
    because Octopush's content type is undocumented. A body that wraps the callback
    in one field (``data=<json>``, ``{"data": {...}}``) is unwrapped.

    Raises:
        CallbackParseError: empty, oversized, malformed or non-object body.
    """
    if len(body) > MAX_BODY_BYTES:
        raise CallbackParseError(f"body too large ({len(body)} bytes)")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type.startswith("multipart/"):
        raise CallbackParseError("multipart bodies are not supported")
    stripped = body.strip()
    if not stripped:
        raise CallbackParseError("empty body")
    is_json = media_type == "application/json" or media_type.endswith("+json")
    if is_json or stripped.startswith((b"{", b"[")):
        fields = _json_object(stripped)
    else:
        fields = _form_fields(_to_text(stripped))
    return _unwrap(fields)


def _json_object(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        reason = (
            exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        )
        raise CallbackParseError(f"malformed JSON: {reason}") from None
    if not isinstance(value, dict):
        raise CallbackParseError(f"expected a JSON object, got {type(value).__name__}")
    return {_key(k): v for k, v in value.items()}


def _form_fields(body: str) -> dict[str, object]:
    """Parse ``a=1&b=2`` by hand so a literal ``+`` before a number survives."""
    fields: dict[str, object] = {}
    for pair in body.split("&"):
        if not pair.strip():
            continue
        raw_key, _, raw_value = pair.partition("=")
        key = _key(_unquote(raw_key))
        if key in _NUMBER_FIELDS and raw_value.startswith("+"):
            raw_value = "%2B" + raw_value[1:]
        fields[key] = _unquote(raw_value)
    if not fields:
        raise CallbackParseError("empty form body")
    return fields


def _unwrap(fields: dict[str, object]) -> dict[str, object]:
    """Return the callback inside a single wrapper field, or ``fields`` as they are."""
    if KNOWN_FIELDS & fields.keys():
        return fields
    for value in fields.values():
        inner: object = value
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                inner = json.loads(value)
            except (ValueError, RecursionError):
                continue
        if isinstance(inner, dict):
            candidate = {_key(k): v for k, v in inner.items()}
            if KNOWN_FIELDS & candidate.keys():
                return candidate
    return fields


def _key(key: object) -> str:
    return str(key).strip().lower()


def _unquote(text: str) -> str:
    return _to_text(unquote_to_bytes(text.replace("+", " ")))


def _to_text(data: bytes) -> str:
    """UTF-8, falling back to Windows-1252 (French gateways) rather than failing."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def text_field(fields: Fields, name: str) -> str | None:
    """The field as stripped text; ``None`` when missing, null, empty or not a scalar.

    Numbers are accepted because some gateways send ``number`` as a JSON number.
    """
    value = fields.get(name)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text or None


def phone_number(text: str) -> str:
    """E.164 for numbers written with ``+`` or ``00``; anything else kept as given.

    Short codes and national numbers cannot be made international without knowing
    the country, so they are left alone rather than guessed.
    """
    compact = _SEPARATORS.sub("", text)
    if _E164.fullmatch(compact):
        return compact
    if _INTERNATIONAL_PREFIX.fullmatch(compact):
        return "+" + compact[2:]
    return text


def date_field(fields: Fields, name: str, zone: tzinfo) -> datetime | None:
    """A tz-aware datetime, or ``None`` when the field is missing or unreadable.

    Octopush sends ``"Y-m-d H:i:s"`` with no zone; that is read in ``zone``. An
    ambiguous autumn hour takes the first (summer-time) reading and a spring hour
    that never existed takes the winter offset (PEP 495, ``fold=0``). ISO-8601 with an
    offset keeps its own offset. A bad date never fails the callback: the event
    itself still matters.
    """
    text = text_field(fields, name)
    if text is None:
        return None
    try:
        parsed = datetime.strptime(text, _OCTOPUSH_DATE)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return parsed


#: Keys a phone can send during a call.
_KEYS = re.compile(r"[0-9*#]")
_PRESSED = "pressed_keys_code"


def pressed_keys(fields: Fields) -> str | None:
    """The keys pressed during a voice call, as one string (``"1"``, ``"12#"``).

    Where Octopush puts ``pressed_keys_code`` is UNCONFIRMED (a top-level field or
    inside ``meta_data``, an object or a JSON string; form bodies may send
    ``meta_data[pressed_keys_code]``), and so is its type (text, number or list).
    Every one of those is read; anything else, or no key at all, is ``None``:
    nothing is inferred from a receipt without keys.
    """
    candidates: list[object] = [
        fields.get(_PRESSED),
        fields.get(f"meta_data[{_PRESSED}]"),
    ]
    meta = fields.get("meta_data")
    if isinstance(meta, str) and meta.lstrip().startswith("{"):
        try:
            meta = json.loads(meta)
        except (ValueError, RecursionError):
            meta = None
    if isinstance(meta, Mapping):
        candidates.append({_key(k): v for k, v in meta.items()}.get(_PRESSED))
    for value in candidates:
        keys = _keys_of(value)
        if keys:
            return keys
    return None


def _keys_of(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, list | tuple):
        parts = [_keys_of(item) for item in value]
        return "".join(part for part in parts if part) or None
    if isinstance(value, int | float | str):
        text = str(int(value)) if isinstance(value, float) else str(value)
        return "".join(_KEYS.findall(text)) or None
    return None
