"""What the Slack listeners need, built once by ``build_app`` and handed to each ``register``."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.config import Settings
from bot.directory.source import DirectorySource
from bot.sending.service import SmsService
from bot.slack.locales import ReaderLanguages
from bot.slack.people import ProfilePhones
from bot.slack.posting import ResultPoster
from bot.slack.recipients import Skipped
from bot.slack.update_queue import UpdateQueue


class FormDrafts(Protocol):
    """Form drafts too large for a view, kept server-side (``bot.audit.drafts``)."""

    def keep(self, user_id: str, payload: Mapping[str, Any]) -> str: ...

    def take(self, draft_id: str, user_id: str) -> dict[str, Any] | None: ...


class CommandStore(Protocol):
    """Where the ack stores a ``/sms`` command before answering (``bot.runtime.sender``)."""

    def store(
        self, kind: str, request_id: str, command: Mapping[str, Any]
    ) -> int | None: ...

    def run_here(self, item_id: int) -> bool: ...

    @property
    def inline(self) -> bool:
        """True when the process that stored a command runs it (``SMS_SENDER=inline``)."""
        ...


@dataclass(frozen=True)
class SlackDeps:
    """The service, settings and Slack helpers shared by every listener."""

    service: SmsService
    settings: Settings
    phones: ProfilePhones
    poster: ResultPoster
    #: Resolves a non-phone recipient token (mention, directory name) to numbers, or None.
    resolve: Callable[[str], Sequence[str] | None]
    #: True for bare words that are directory names (people, groups, rotations).
    is_name: Callable[[str], bool]
    #: The directory file (``SMS_DIRECTORY``), reloaded when it changes.
    directory: DirectorySource
    #: Coalesced ``chat.update`` of posts that change often (delivery receipts).
    updates: UpdateQueue
    #: Each reader's language (ephemeral answers, modals) and the workspace's (posts).
    languages: ReaderLanguages
    #: Members of the groups among some tokens who were skipped (not texted), and why.
    unreachable: Callable[[Sequence[str]], list[Skipped]] = lambda _tokens: []
    #: Where a form's draft waits for its **Send** when the view cannot hold it.
    drafts: FormDrafts | None = None
    #: Stored ``/sms`` sends and pages, the question's buttons, the form's submission
    #: and confirmation, the Home's page form, run by a sender (None: no queue, each
    #: runs on the listener pool after its ack).
    commands: CommandStore | None = None
    #: Runs what is left of a command or a stored action after its ack, on the
    #: listener pool (None: at once, in the ack: a harness without a pool).
    after_ack: Callable[[Callable[[], object]], object] | None = None


def interaction_request_id(kind: str, *parts: str | None) -> str:
    """A stable Octopush ``request_id`` for one Slack interaction.

    The same interaction (a retried delivery, a double-clicked submit) always gives the
    same id, so the audit store and Octopush both refuse to send it twice.
    """
    digest = hashlib.sha256(
        "\x1f".join(part or "" for part in (kind, *parts)).encode()
    ).hexdigest()
    return f"slack-{kind}-{digest[:32]}"
