"""What every ``sms-bot`` command shares: exit codes, settings loading, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.config import Settings, load_settings, terminal_language
from bot.i18n import Translator, translator
from bot.log import configure_logging
from bot.runtime.wiring import secrets_of

#: 0 success; 1 Octopush refused or could not be reached; 2 bad input or settings.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def settings_from(args: argparse.Namespace, required: Sequence[str] = ()) -> Settings:
    """Load the settings a command needs and set up logging with secrets redacted."""
    settings = load_settings(required=required)
    configure_logging(
        "DEBUG" if args.verbose else "ERROR", secrets=secrets_of(settings)
    )
    return settings


def cli_translator() -> Translator:
    """The CLI speaks ``LC_ALL``/``LC_MESSAGES``/``LANG``, else ``SMS_LANGUAGE``."""
    return translator(terminal_language())


def reason_of(error: Exception) -> str:
    """The message ``error`` was raised with, still translatable when it was marked.

    ``str(error)`` would give plain English; the first argument keeps an ``N_`` text.
    """
    first = error.args[0] if error.args else None
    return first if isinstance(first, str) else str(error)


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        tr = cli_translator()
        raise argparse.ArgumentTypeError(
            tr.gettext("%(value)r is not a whole number of at least 1", value=value)
        )
    return number
