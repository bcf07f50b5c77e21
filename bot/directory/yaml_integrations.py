"""Reading the directory file's ``integrations:`` (alert sources) with their lines.

An integration names what it pages (a person, group or rotation of the same file), so
it is read last; every problem is reported with its line, like the rest of the file.
"""

from __future__ import annotations

import re
import string
from typing import Protocol

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.directory.model import Integration
from bot.directory.yaml_nodes import line_of, text_of
from bot.i18n import N_

_KEYS = (
    "pages",
    "channel",
    "token_env",
    "page_severities",
    "hmac_secret_env",
    "templates",
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
#: The fields a template may use (see :mod:`bot.alerts.handler`).
TEMPLATE_FIELDS = frozenset(
    {"summary", "severity", "source", "integration", "sender", "firing"}
)
#: Languages a template may be written for (``SMS_LANGUAGE``'s values).
_LANGUAGES = ("en", "fr")
_Pairs = list[tuple[str, Node, Node]]


class _Reader(Protocol):
    def problem(self, node: Node, where: str, message: str) -> None: ...

    def mapping(self, node: Node | None, where: str, expected: str) -> _Pairs: ...

    def fields(
        self, value: Node, where: str, allowed: tuple[str, ...]
    ) -> dict[str, Node]: ...


def read_integrations(
    reader: _Reader, node: Node | None, targets: set[str]
) -> dict[str, Integration]:
    """The integrations of ``node``; ``targets`` are the names an alert may page."""
    found: dict[str, Integration] = {}
    for raw, key_node, value in reader.mapping(
        node, "integrations", N_("a mapping of names")
    ):
        name, where = raw.lower(), f"integrations.{raw}"
        ok = bool(_NAME.match(name))
        if not ok:
            reader.problem(
                key_node,
                "integrations",
                N_(
                    "'%(name)s' cannot be an integration name: use letters, digits, "
                    "'.', '_' and '-'",
                    name=raw,
                ),
            )
        fields = reader.fields(value, where, _KEYS)
        pages = _required(reader, fields, "pages", key_node, where)
        if pages is not None and pages.lower() not in targets:
            ok = False
            reader.problem(
                fields["pages"],
                f"{where}.pages",
                N_(
                    "'%(name)s' is not a person, group or rotation of this file",
                    name=pages,
                ),
            )
        channel = _required(reader, fields, "channel", key_node, where)
        if channel is not None and not _CHANNEL.match(channel):
            ok = False
            reader.problem(
                fields["channel"],
                f"{where}.channel",
                N_("'%(channel)s' is not a Slack channel id", channel=channel),
            )
        token_env = _env(reader, fields, "token_env", key_node, where, required=True)
        hmac_env = _env(reader, fields, "hmac_secret_env", key_node, where)
        severities = _severities(reader, fields.get("page_severities"), where)
        templates = _templates(reader, fields.get("templates"), where)
        if (
            ok
            and pages is not None
            and channel is not None
            and token_env is not None
            and severities is not None
            and templates is not None
            and ("hmac_secret_env" not in fields or hmac_env is not None)
        ):
            found[name] = Integration(
                name=name,
                pages=pages.lower(),
                channel=channel,
                token_env=token_env,
                page_severities=severities,
                hmac_secret_env=hmac_env,
                templates=templates,
            )
    return found


def _required(
    reader: _Reader, fields: dict[str, Node], key: str, owner: Node, where: str
) -> str | None:
    text = text_of(fields.get(key))
    if text is None:
        reader.problem(
            fields.get(key) or owner,
            f"{where}.{key}",
            N_("missing; write %(key)s: …", key=key),
        )
    return text


def _env(
    reader: _Reader,
    fields: dict[str, Node],
    key: str,
    owner: Node,
    where: str,
    *,
    required: bool = False,
) -> str | None:
    if key not in fields and not required:
        return None
    text = _required(reader, fields, key, owner, where)
    if text is not None and not _ENV.match(text):
        reader.problem(
            fields[key],
            f"{where}.{key}",
            N_(
                "'%(value)s' is not an environment variable name (write its name, "
                "never the secret itself)",
                value=text,
            ),
        )
        return None
    return text


def _severities(
    reader: _Reader, node: Node | None, where: str
) -> tuple[str, ...] | None:
    if node is None:
        return ()
    if isinstance(node, ScalarNode) and text_of(node):
        return ((text_of(node) or "").lower(),)
    if not isinstance(node, SequenceNode) or not all(
        isinstance(item, ScalarNode) and text_of(item) for item in node.value
    ):
        reader.problem(
            node,
            f"{where}.page_severities",
            N_("expected a list such as [critical]"),
        )
        return None
    return tuple(dict.fromkeys((text_of(i) or "").lower() for i in node.value))


def _templates(
    reader: _Reader, node: Node | None, where: str
) -> tuple[tuple[str, str], ...] | None:
    if node is None:
        return ()
    if not isinstance(node, MappingNode):
        reader.problem(
            node,
            f"{where}.templates",
            N_("expected a mapping of languages (en, fr) to texts"),
        )
        return None
    found: list[tuple[str, str]] = []
    ok = True
    for key_node, value in node.value:
        language, text = (text_of(key_node) or "").lower(), text_of(value)
        if language not in _LANGUAGES or text is None:
            ok = False
            reader.problem(
                key_node,
                f"{where}.templates",
                N_(
                    "line %(line)s: write en: or fr: followed by a text",
                    line=line_of(key_node),
                ),
            )
            continue
        unknown = _unknown_fields(text)
        if unknown is not None:
            ok = False
            reader.problem(
                value,
                f"{where}.templates.{language}",
                N_(
                    "'{%(field)s}' is not a field; use %(fields)s",
                    field=unknown,
                    fields=", ".join(f"{{{f}}}" for f in sorted(TEMPLATE_FIELDS)),
                ),
            )
            continue
        found.append((language, text))
    return tuple(found) if ok else None


def _unknown_fields(template: str) -> str | None:
    """The first field of ``template`` that is not one of :data:`TEMPLATE_FIELDS`."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return template
    for _text, field, _spec, _conversion in parsed:
        if field is not None and field not in TEMPLATE_FIELDS:
            return field
    return None
