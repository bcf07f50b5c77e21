"""The country of an IANA time zone, from the tz database's own ``zone.tab``.

A Slack profile phone written in national form (``079 123 45 67``) is read in its
owner's country, and Slack tells a person's time zone, not their country. ``zone.tab``
maps each zone to exactly one ISO 3166 country (``Europe/Zurich`` → ``CH``), even the
zones several countries share; the ``tzdata`` package ships it, so the map is the same
on every machine. Link names (``Europe/Busingen``) have their own line when they are a
country's zone; others (``US/Pacific``) are followed to their target first.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources

logger = logging.getLogger(__name__)

#: Old or alias names Slack may still report, mapped to a zone ``zone.tab`` lists.
_BACKWARD_FILE = "tzdata.zi"


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, str]:
    """``zone.tab`` as ``{zone: country}``, plus the links that point at those zones."""
    root = resources.files("tzdata.zoneinfo")
    table: dict[str, str] = {}
    for line in root.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            table[fields[2]] = fields[0].upper()
    try:
        compiled = root.joinpath(_BACKWARD_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):  # pragma: no cover - shipped by tzdata
        logger.warning(
            "tzdata has no %s: zone aliases are not followed", _BACKWARD_FILE
        )
        return table
    for line in compiled.splitlines():
        # ``L TARGET LINK``: LINK is another name of TARGET.
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L" and fields[2] not in table:
            target = fields[1]
            if target in table:
                table[fields[2]] = table[target]
    return table


def country_of_zone(zone: str | None) -> str | None:
    """The ISO 3166 code (``CH``) of the country of ``zone``; ``None`` when not one.

    ``UTC``, ``Etc/GMT+2``, an empty or unknown name have no country.
    """
    if not zone:
        return None
    return _zone_table().get(zone.strip())
