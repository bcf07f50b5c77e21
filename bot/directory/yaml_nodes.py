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
