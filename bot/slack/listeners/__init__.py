"""Wiring of every Slack listener to an App (the starter template's ``register`` idiom).

Kept out of ``bot/slack/__init__.py`` so importing a pure builder (``messages``,
``modals``, ``grammar``) does not import Bolt handlers and the Octopush client.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.commands import SmsCommandHandlers
from bot.slack.listeners.forms import SmsFormHandlers
from bot.slack.listeners.home import SlackHome
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.workflow_steps import WorkflowSteps


def register_listeners(
    app: App, deps: SlackDeps, paging: SlackPaging, home: SlackHome | None = None
) -> SmsCommandHandlers:
    """Register every listener (the manifest test checks each manifest entry has one);
    the ``/sms`` handlers, which also run the commands a sender claims."""
    commands = SmsCommandHandlers(deps, paging)
    commands.register(app)
    SmsFormHandlers(deps).register(app)
    paging.register(app)
    if home is not None:
        home.register(app)
    WorkflowSteps(deps, paging).register(app)
    return commands
