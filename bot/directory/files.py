"""Loading the directory file (``SMS_DIRECTORY``): text to YAML nodes to the model.

The one entry point for a file or its text; :mod:`bot.directory.yaml_file` walks the
nodes, :mod:`bot.directory.model` is what comes out. Neither imports this module, so
the three form a line, not a cycle.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.directory.model import Directory, DirectoryError
from bot.directory.rotation import DEFAULT_TIMEZONE
from bot.directory.yaml_file import read_directory
from bot.directory.yaml_words import marked
from bot.i18n import N_


def load_directory(
    path: Path, *, region: str, timezone: str = DEFAULT_TIMEZONE
) -> Directory:
    """Read the directory file at ``path``; national numbers are read in ``region``,
    rotations without ``timezone:`` are in ``timezone`` (``SMS_TIMEZONE``).

    Raises:
        DirectoryError: listing every problem in the file, each with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else N_("not UTF-8 text")
        raise DirectoryError(
            [N_("cannot be read: %(reason)s", reason=reason)], source=str(path)
        ) from error
    return parse_directory(text, region=region, source=str(path), timezone=timezone)


def parse_directory(
    text: str, *, region: str, source: str = "", timezone: str = DEFAULT_TIMEZONE
) -> Directory:
    """:func:`load_directory` for text already read; ``source`` names it in errors.

    Raises:
        DirectoryError: listing every problem in ``text``, each with its line.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise DirectoryError([_syntax_problem(error)], source=source) from error
    except yaml.YAMLError as error:
        raise DirectoryError(
            [N_("is not YAML: %(error)s", error=str(error))], source=source
        ) from error
    return read_directory(root, region=region, timezone=timezone, source=source)


def _syntax_problem(error: yaml.MarkedYAMLError) -> str:
    """Where PyYAML stopped and why; its own words are kept, ours are marked."""
    mark = error.problem_mark or error.context_mark
    what = marked(error.problem or error.context or N_("not valid YAML"))
    if error.context and error.context_mark and error.problem:
        what = N_(
            "%(problem)s (%(context)s, line %(line)s)",
            problem=what,
            context=marked(error.context),
            line=error.context_mark.line + 1,
        )
    if mark is None:
        return N_("YAML syntax: %(problem)s", problem=what)
    return N_(
        "line %(line)s, column %(column)s: YAML syntax: %(problem)s",
        line=mark.line + 1,
        column=mark.column + 1,
        problem=what,
    )
