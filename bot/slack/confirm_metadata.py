"""The draft a form's confirmation carries to its **Send**, in ``private_metadata``.

Slack lets a view carry 3,000 characters. A larger draft (a long message to many
recipients) is kept server-side (:class:`~bot.slack.deps.FormDrafts`), and the view
carries only its id, which only the person who filled the form can use, once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from bot.errors import AuditStoreError
from bot.slack.deps import FormDrafts
from bot.slack.views.modals import METADATA_MAX

logger = logging.getLogger(__name__)

#: The key of ``private_metadata`` that holds a kept draft's id instead of the draft.
_KEPT = "kept_draft"


class ConfirmMetadata:
    """Writes a draft into a confirmation's metadata and reads it back."""

    def __init__(self, drafts: FormDrafts | None) -> None:
        self._drafts = drafts

    def write(self, saved: Mapping[str, Any], user_id: str | None) -> str | None:
        """``saved`` as metadata, kept aside when too long; ``None`` when it cannot be."""
        metadata = json.dumps(saved, ensure_ascii=False, separators=(",", ":"))
        if len(metadata) <= METADATA_MAX:
            return metadata
        if self._drafts is None or not user_id:
            return None
        try:
            return json.dumps({_KEPT: self._drafts.keep(user_id, saved)})
        except AuditStoreError as error:
            logger.error("a large form draft could not be kept: %s", error)
            return None

    def read(self, metadata: str, user_id: str | None) -> dict[str, Any]:
        """What :meth:`write` saved, for ``user_id``; empty when gone or not theirs."""
        try:
            saved = json.loads(metadata)
        except ValueError:
            return {}
        if not isinstance(saved, dict):
            return {}
        kept = saved.get(_KEPT)
        if kept is None:
            return saved
        if self._drafts is None or not user_id:
            return {}
        try:
            return self._drafts.take(str(kept), user_id) or {}
        except AuditStoreError as error:
            logger.error("the form's kept draft could not be read: %s", error)
            return {}
