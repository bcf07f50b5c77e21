"""Reading a group's ``members:`` list: people only, each once, with a hint for typos."""

from __future__ import annotations

import difflib
from typing import Protocol

from yaml.nodes import Node, ScalarNode, SequenceNode

from bot.directory.yaml_nodes import NULL_TAG, line_of, text_of
from bot.i18n import N_


class ProblemSink(Protocol):
    """Where a problem goes, with the node it is at (the file reader)."""

    def problem(self, node: Node, where: str, message: str) -> None: ...


def read_members(
    reader: ProblemSink,
    node: Node | None,
    owner: Node,
    where: str,
    known: dict[str, int],
    groups: set[str],
) -> tuple[str, ...] | None:
    """The people ``members:`` lists, or None after reporting each problem.

    ``known`` maps every declared person to its line; ``groups`` are the group names.
    """
    where = f"{where}.members"
    if node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
        reader.problem(owner, where, N_("missing; write members: [alice, bob]"))
        return None
    if not isinstance(node, SequenceNode):
        reader.problem(node, where, N_("expected a list such as [alice, bob]"))
        return None
    if not node.value:
        reader.problem(node, where, N_("empty; list at least one person"))
        return None
    members: dict[str, int] = {}
    ok = True
    for item in node.value:
        raw = text_of(item)
        name = (raw or "").lower()
        if raw is None:
            message = N_("each member must be a person's name")
        elif name in members:
            first = members[name]
            message = (
                N_(
                    "'%(name)s' is listed twice (also line %(line)s)",
                    name=raw,
                    line=first,
                )
                if first != line_of(item)
                else N_("'%(name)s' is listed twice", name=raw)
            )
        elif name in known:
            members[name] = line_of(item)
            continue
        elif name in groups:
            message = N_("'%(name)s' is a group; members must be people", name=raw)
        else:
            close = difflib.get_close_matches(name, list(known), n=1)
            message = (
                N_(
                    "unknown member '%(name)s': not in people; "
                    "did you mean '%(close)s'?",
                    name=raw,
                    close=close[0],
                )
                if close
                else N_("unknown member '%(name)s': not in people", name=raw)
            )
        reader.problem(item, where, message)
        ok = False
    return tuple(members) if ok else None
