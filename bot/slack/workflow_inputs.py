"""Reading a Workflow Builder step's inputs into what ``/sms`` would have read.

A step's ``to`` is the recipients as typed after ``/sms``, and its ``text`` is a field
of its own: so nothing of ``to`` may end up in the message, and nothing is guessed. The
recipients go through the ``/sms`` grammar alone; when it cannot read all of ``to`` as
recipients (a word it takes for the start of a message, a sub-command), the step is
refused, naming what it could not read. Pure: no Slack call, no lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import N_
from bot.slack.grammar import parse_sms_command, unescape_slack


@dataclass(frozen=True)
class StepRecipients:
    """The recipient tokens read from ``to``, or why they could not be read."""

    tokens: tuple[str, ...] = ()
    #: English, marked with ``N_`` (the requester reads it in their language).
    problem: str | None = None


def read_recipients(
    to: str, *, region: str, is_name: Callable[[str], bool]
) -> StepRecipients:
    """The tokens of ``to`` as ``/sms`` reads recipients; a line break counts as a comma."""
    typed = ", ".join(line.strip() for line in to.splitlines() if line.strip())
    typed = typed.strip().rstrip(",").strip()
    if not typed:
        return StepRecipients(problem=N_("no recipient was given"))
    parsed = parse_sms_command(typed, region=region, is_name=is_name)
    if parsed.action != "send" or parsed.problems:
        return StepRecipients(
            problem=N_(
                "'%(typed)s' is not a list of recipients: give phone numbers, "
                "people or groups, separated by commas",
                typed=typed,
            )
        )
    if parsed.text:
        return StepRecipients(
            problem=N_(
                "'%(rest)s' could not be read as a recipient: separate recipients "
                "with commas, and put the message in the message field",
                rest=parsed.text,
            )
        )
    return StepRecipients(tokens=parsed.recipients)


def step_text(text: str) -> str:
    """The message as ``/sms`` would send it (Slack's escapes undone, ends trimmed)."""
    return unescape_slack(text.strip())
