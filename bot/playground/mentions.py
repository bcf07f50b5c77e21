"""What Slack does to typed text before an app sees it (``should_escape: true``).

``& < >`` become entities, URLs are wrapped in ``<…>``, ``@alice`` becomes
``<@U0ALICE|alice>``, ``@ops-team`` ``<!subteam^S…|@ops-team>``, ``#ops`` ``<#C0OPS|ops>``.
"""

from __future__ import annotations

import re

from bot.playground import workspace

_URL = re.compile(r"https?://[^\s<>]+")
_AT = re.compile(r"(?<![\w@<|^])@([A-Za-z0-9._-]+)")
_HASH = re.compile(r"(?<![\w&<|])#([a-z0-9_-]+)")
_SPECIAL = {"here": "<!here>", "channel": "<!channel>", "everyone": "<!everyone>"}


def escape_typed(text: str, *, label_mentions: bool) -> str:
    """``text`` as Slack delivers it; ``label_mentions`` adds ``|name`` (slash commands)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _URL.sub(lambda m: f"<{m.group(0)}>", escaped)

    def mention(match: re.Match[str]) -> str:
        word = match.group(1)
        key = word.lower().rstrip(".")
        tail = word[len(key) :]
        for person in workspace.PEOPLE:
            if key in (person.name, person.real_name.split()[0].lower()):
                label = f"|{person.name}" if label_mentions else ""
                return f"<@{person.id}{label}>{tail}"
        for group in workspace.USERGROUPS:
            if key == group.handle:
                return f"<!subteam^{group.id}|@{group.handle}>{tail}"
        if key in _SPECIAL:
            return _SPECIAL[key] + tail
        return match.group(0)

    def channel(match: re.Match[str]) -> str:
        found = next((c for c in workspace.CHANNELS if c.name == match.group(1)), None)
        return f"<#{found.id}|{found.name}>" if found else match.group(0)

    return _HASH.sub(channel, _AT.sub(mention, escaped))
