"""Is ``bot/locale/messages.pot`` what ``pybabel extract`` gives today?

CI runs ``python -m tests.i18n.pot_check``; ``tests/i18n/test_catalogs.py`` runs the same
check. The comparison ignores the header lines that change by themselves (creation
date, copyright year, Babel version), so only a changed message makes it fail.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "bot" / "locale" / "messages.pot"
#: The README's extraction command, less ``-o``.
EXTRACT = [
    "pybabel",
    "-q",
    "extract",
    "-F",
    str(ROOT / "babel.cfg"),
    "--no-location",
    "--sort-output",
    "--project=sms-bot",
]
_VOLATILE = re.compile(r'^(#.*|"(POT-Creation-Date|Generated-By): .*\\n")$')


def extract(target: Path) -> None:
    """Write a fresh template of every marked message of ``bot/`` to ``target``."""
    CommandLineInterface().run([*EXTRACT, "-o", str(target), str(ROOT)])


def comparable(template: str) -> list[str]:
    """The template's lines without the ones that change on every extraction."""
    return [line for line in template.splitlines() if not _VOLATILE.match(line)]


def stale_lines() -> list[str]:
    """Lines that differ between the committed template and a fresh extraction."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "messages.pot"
        extract(fresh)
        new = comparable(fresh.read_text(encoding="utf-8"))
    old = comparable(TEMPLATE.read_text(encoding="utf-8"))
    if new == old:
        return []
    return [f"- {line}" for line in old if line not in new] + [
        f"+ {line}" for line in new if line not in old
    ]


def main() -> int:
    diff = stale_lines()
    if not diff:
        print("messages.pot is up to date")
        return 0
    print("bot/locale/messages.pot is out of date; regenerate it and update the")
    print("catalogs as the README says (Translations), then translate the new entries:")
    for line in diff[:40]:
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
