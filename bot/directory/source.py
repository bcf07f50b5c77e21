"""The directory as a running bot sees it: loaded at start, reloaded when the file changes.

A bad file at start stops the program with every problem and its line. A bad edit
while running never takes the bot down: the last good directory stays in use and the
problems are logged and announced once per change of the file.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.directory.files import load_directory
from bot.directory.model import Directory, DirectoryError
from bot.directory.rotation import DEFAULT_TIMEZONE
from bot.errors import SettingsError
from bot.i18n import N_, joined

logger = logging.getLogger(__name__)

EMPTY = Directory(people={}, groups={}, rotations={})


class DirectorySource:
    """Thread-safe access to the current directory (``SMS_DIRECTORY``)."""

    def __init__(
        self,
        path: Path | None,
        *,
        region: str,
        timezone: str = DEFAULT_TIMEZONE,
        check_every: float = 5.0,
        announce: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._region = region
        self._timezone = timezone
        self._check_every = check_every
        self._announce = announce
        self._clock = clock
        self._lock = threading.Lock()
        self._directory = EMPTY
        self._stamp: tuple[float, int] | None = None
        self._checked_at = float("-inf")

    def load(self) -> Directory:
        """Load the file now; raises ``DirectoryError`` (for start-up) when it is bad."""
        if self.path is None:
            return EMPTY
        stamp = self._file_stamp()
        directory = load_directory(
            self.path, region=self._region, timezone=self._timezone
        )
        with self._lock:
            self._directory, self._stamp, self._checked_at = (
                directory,
                stamp,
                self._clock(),
            )
        return directory

    def current(self) -> Directory:
        """The directory to use now, reloading the file if it changed since last look."""
        if self.path is None:
            return EMPTY
        now = self._clock()
        with self._lock:
            if now - self._checked_at < self._check_every:
                return self._directory
            self._checked_at = now
            known = self._stamp
        stamp = self._file_stamp()
        if stamp == known:
            return self._directory
        try:
            directory = load_directory(
                self.path, region=self._region, timezone=self._timezone
            )
        except (DirectoryError, OSError) as error:
            with self._lock:
                self._stamp = stamp  # report this version of the file once
            message = N_(
                "SMS_DIRECTORY %(path)s was changed but cannot be used; "
                "keeping the previous one:\n%(problems)s",
                path=str(self.path),
                problems=_problems_text(error),
            )
            logger.error("%s", message)
            if self._announce is not None:
                self._announce(message)
            return self._directory
        with self._lock:
            self._directory, self._stamp = directory, stamp
        logger.info("SMS_DIRECTORY reloaded from %s", self.path)
        return directory

    def _file_stamp(self) -> tuple[float, int] | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)


def open_directory(
    settings: Settings, *, announce: Callable[[str], None] | None = None
) -> DirectorySource:
    """The directory file, loaded now so a bad one stops the start with every problem."""
    source = DirectorySource(
        settings.sms.directory,
        region=settings.sms.default_region,
        timezone=settings.sms.timezone,
        announce=announce,
    )
    try:
        source.load()
    except DirectoryError as error:
        path = str(error.source or settings.sms.directory)
        raise SettingsError(
            [
                N_("SMS_DIRECTORY (%(path)s): %(problem)s", path=path, problem=problem)
                for problem in error.problems
            ]
        ) from None
    except OSError as error:
        raise SettingsError(
            [
                N_(
                    "SMS_DIRECTORY: cannot read %(path)s: %(reason)s",
                    path=str(settings.sms.directory),
                    reason=error.strerror,
                )
            ]
        ) from None
    return source


def _problems_text(error: Exception) -> str:
    """``str(error)``, one problem a line, each still translatable when it is ours."""
    if not isinstance(error, DirectoryError):
        return str(error)
    return joined(
        [
            N_("%(source)s: %(problem)s", source=error.source, problem=problem)
            if error.source
            else problem
            for problem in error.problems
        ],
        "\n",
    )


def directory_resolver(source: DirectorySource) -> Callable[[str], list[str] | None]:
    """A ``Resolver`` for the message rules: directory names to numbers, else None."""

    def resolve(token: str) -> list[str] | None:
        directory = source.current()
        if not directory.is_name(token):
            return None
        return directory.numbers_for(token, at=datetime.now(UTC))

    return resolve
