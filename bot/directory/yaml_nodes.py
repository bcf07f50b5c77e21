"""Small helpers over PyYAML nodes shared by the directory readers."""

from __future__ import annotations

from yaml.nodes import Node, ScalarNode

NULL_TAG = "tag:yaml.org,2002:null"


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def text_of(node: Node | None) -> str | None:
    """A scalar's text exactly as written (so ``+336…`` stays a string), else None."""
    if not isinstance(node, ScalarNode) or node.tag == NULL_TAG:
        return None
    return str(node.value).strip() or None


def reason_of(error: Exception) -> str:
    """The message ``error`` was raised with, still translatable when it was marked.

    ``str(error)`` would give plain English; the first argument keeps a
    :class:`~bot.i18n.Deferred` text (``N_``) as it is.
    """
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else str(error)
