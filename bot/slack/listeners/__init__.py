"""Wiring of every Slack listener to an App (the starter template's ``register`` idiom).

Kept out of ``bot/slack/__init__.py`` so importing a pure builder (``messages``,
``modals``, ``grammar``) does not import Bolt handlers and the Octopush client.
"""

from __future__ import annotations

from slack_bolt import App

from bot.slack.deps import SlackDeps
from bot.slack.listeners.command_buttons import STORED_KIND as PRESSED
from bot.slack.listeners.command_buttons import CommandButtons
from bot.slack.listeners.commands import STORED_ACTIONS, SmsCommandHandlers
from bot.slack.listeners.forms import CONFIRMED, SUBMITTED, SmsFormHandlers
from bot.slack.listeners.home import STORED_KIND as HOME_PAGE
from bot.slack.listeners.home import SlackHome
from bot.slack.listeners.pages import SlackPaging
from bot.slack.listeners.stored_runs import StoredRuns
from bot.slack.listeners.workflow_steps import STORED_KINDS as WORKFLOW_STEPS
from bot.slack.listeners.workflow_steps import WorkflowSteps
from bot.slack.sealed import button_key


def register_listeners(
    app: App, deps: SlackDeps, paging: SlackPaging, home: SlackHome | None = None
) -> StoredRuns:
    """Register every listener (the manifest test checks each manifest entry has one);
    what runs the actions their acks stored (the sender's one runner)."""
    commands = SmsCommandHandlers(deps, paging)
    commands.register(app)
    form = SmsFormHandlers(deps)
    form.register(app)
    paging.register(app)
    if home is not None:
        home.register(app)
    steps = WorkflowSteps(deps, paging)
    steps.register(app)
    runs = StoredRuns()
    runs.add(commands.run_stored, *STORED_ACTIONS)
    # The buttons of /sms's questions hold no state: this runs what theirs stored.
    buttons = CommandButtons(deps, commands.sender, button_key(deps.settings))
    runs.add(buttons.run_stored, PRESSED)
    runs.add(form.run_stored, SUBMITTED, CONFIRMED)
    if home is not None:
        runs.add(home.run_stored, HOME_PAGE)
    runs.add(steps.run_stored, *WORKFLOW_STEPS)
    return runs
