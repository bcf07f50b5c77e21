"""The low-credit watch: one notice when the credit falls under ``SMS_LOW_CREDIT``.

"Once" holds across instances (a claimed key in the audit database) and is re-armed
when a send shows the credit back above the threshold (the account was topped up).
The notice is a channel post, so it is in the workspace's language (``language``,
else the process default: ``SMS_LANGUAGE``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.audit import AuditStore, Notices
from bot.domain import SendOutcome
from bot.i18n import translator

logger = logging.getLogger(__name__)

NOTICE_KEY = "low-credit"


class LowCreditWatch:
    """An outcome observer for :class:`bot.sending.service.SmsService`."""

    def __init__(
        self,
        *,
        store: AuditStore,
        threshold: float,
        announce: Callable[[str], None],
        language: str | None = None,
    ) -> None:
        self._notices = Notices(store)
        self.threshold = threshold
        self._announce = announce
        self._language = language

    def __call__(self, outcome: SendOutcome) -> None:
        credit = outcome.residual_credit
        if credit is None or outcome.request.simulation:
            return
        if credit >= self.threshold:
            if self._notices.claimed(NOTICE_KEY):
                self._notices.release(NOTICE_KEY)
            return
        if self._notices.claim(NOTICE_KEY):
            logger.warning(
                "Octopush credit %s is under SMS_LOW_CREDIT=%s", credit, self.threshold
            )
            self._announce(self._notice(credit))

    def _notice(self, credit: float) -> str:
        tr = translator(self._language)
        return tr.gettext(
            ":warning: Octopush credit is low: *%(credit)s* left (SMS_LOW_CREDIT is "
            "%(threshold)s). Top up the account before sends fail with code 104. This "
            "notice is sent once, until the credit is back above the threshold.",
            credit=tr.money(credit),
            threshold=tr.number(self.threshold),
        )
