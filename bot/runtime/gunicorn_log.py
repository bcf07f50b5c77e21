"""Gunicorn's access log without the secret in the Octopush callback URL.

The callback path ends in ``OCTOPUSH_CALLBACK_TOKEN``, the only guard of that URL;
an access log line must not give it away.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_CALLBACK = re.compile(r"(/octopush/callback/)[^\s?/]+")


class RedactingLogger(Logger):  # type: ignore[misc]
    """Logs requests as gunicorn does, with the callback token replaced."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_path(atoms[key])
        return atoms


def redact_path(text: str) -> str:
    return _CALLBACK.sub(r"\1[redacted]", text)
