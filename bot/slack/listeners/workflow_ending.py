"""How a stored Workflow Builder step tells Slack it ended, from a sender.

``functions.completeSuccess`` and ``functions.completeError`` take the run's own
``bot_access_token`` (the ``function_executed`` event's), valid only while the function
runs: the ack stores it with the step (the queue drops the row's body once run), and
this module is the one place that reads it back. It goes into a Web API client's
``Authorization`` header, never into a log line, an exception or the audit trail.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Complete, Fail
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.api import slack_error_code

#: Where a stored step's payload keeps the run's token.
TOKEN = "bot_access_token"
#: Where it keeps the run's id (``functions.complete*`` name it).
EXECUTION = "function_execution_id"


class StepNotEnded(RuntimeError):
    """Slack refused the step's end (its token expired or is invalid, the run ended
    already or is gone): the sender logs it and marks the stored step failed. Says
    the run's id and Slack's error code, never the token."""


class StoredStepEnding:
    """``complete`` and ``fail`` for a stored step, with the run's own token.

    A refusal is not raised at once (the step's code already sent and posted): it is
    kept, and :meth:`raise_if_refused` raises it once the run is over.
    """

    def __init__(self, base: WebClient, payload: dict[str, Any]) -> None:
        self.execution_id = str(payload.get(EXECUTION) or "")
        client = WebClient(
            token=str(payload.get(TOKEN) or ""),
            base_url=base.base_url,
            timeout=base.timeout,
            ssl=base.ssl,
            proxy=base.proxy,
            retry_handlers=base.retry_handlers,
            logger=base.logger,
        )
        self._complete = Complete(client, self.execution_id or None)
        self._fail = Fail(client, self.execution_id or None)
        #: Why the end was not taken, in words without the token (None: it was).
        self.refused: str | None = None

    def complete(self, outputs: dict[str, Any] | None = None) -> None:
        self._told(self._complete, outputs)

    def fail(self, error: str) -> None:
        self._told(self._fail, error)

    def _told(self, done: Complete | Fail, argument: Any) -> None:
        try:
            done(argument)
        except SlackApiError as error:
            self.refused = (
                f"Slack answered {slack_error_code(error)}: the run was ended "
                "already, or its token expired"
            )
        except Exception as error:  # the network: said by raise_if_refused
            self.refused = f"Slack not reached: {type(error).__name__}: {error}"

    def raise_if_refused(self) -> None:
        """Raises:
        StepNotEnded: Slack did not take the step's end (the sender logs it and
            marks the stored step failed; the send is in the audit trail)."""
        if self.refused is not None:
            raise StepNotEnded(
                f"workflow step run {self.execution_id} could not be completed "
                f"({self.refused}); what was sent is in the audit trail"
            )
