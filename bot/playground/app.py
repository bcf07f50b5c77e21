"""Putting the playground together: stand-ins first, then the real app through the same
composition root as ``serve`` (:func:`bot.runtime.slack_app.build_stack`) and the same
WSGI app (:func:`bot.runtime.web.create_wsgi_app`), with production's signature check.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings
from bot.playground.alerts import INTEGRATION, AlertFirer
from bot.playground.changes import Changes
from bot.playground.octopush_sim import OctopushSimulator, Receipts
from bot.playground.server import LocalServer
from bot.playground.settings import (
    AUDIT_FILE,
    Secrets,
    ignored_names,
    isolated_environment,
    load_playground_settings,
    playground_environment,
)
from bot.playground.site import PlaygroundSite
from bot.playground.slack_api import SlackWebApi
from bot.playground.slack_client import SlackClient
from bot.playground.slack_world import SlackWorld
from bot.playground.ui import UiApi
from bot.playground.workflow import WorkflowRuns
from bot.playground.workspace import write_directory
from bot.runtime.slack_app import build_stack
from bot.runtime.web import WSGIApp, create_wsgi_app
from bot.sending.recovery import start_recovery


@dataclass(frozen=True)
class Started:
    """What :meth:`Playground.start` tells the person who started it."""

    url: str
    ignored: list[str]
    audit_file: Path


class Playground:
    """The whole playground in this process; :meth:`stop` undoes :meth:`start`."""

    def __init__(
        self,
        *,
        port: int = 3000,
        workdir: Path | None = None,
        receipt_delay: float = 2.0,
    ) -> None:
        self.workdir = (workdir or Path.cwd()).resolve()
        self._port = port
        self._receipt_delay = receipt_delay
        self._exit = contextlib.ExitStack()
        self.octopush: OctopushSimulator | None = None
        self.slack: SlackWebApi | None = None
        self.client: SlackClient | None = None
        self.keys = Secrets.generate()

    def start(self) -> Started:
        """Bind, start the stand-ins, build the real app; raises ``OSError`` if the port
        is taken and ``SettingsError`` if the app refuses its settings."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Started:
        server = LocalServer(self._port)
        self._exit.callback(server.stop)
        base, keys = server.url, self.keys
        ignored = ignored_names(os.environ, self.workdir)
        folder = Path(self._exit.enter_context(tempfile.TemporaryDirectory()))
        environment = playground_environment(
            base_url=base,
            keys=keys,
            workdir=self.workdir,
            directory=write_directory(folder),
        )
        self._exit.enter_context(isolated_environment(environment))
        settings = load_playground_settings()

        changes = Changes()
        world = SlackWorld(changes)
        self.slack = SlackWebApi(world, bot_token=keys.bot_token)
        self.octopush = OctopushSimulator(
            api_login=keys.octopush_login,
            api_key=keys.octopush_key,
            changes=changes,
            receipts=Receipts(delay=self._receipt_delay),
        )
        self._exit.callback(self.octopush.close)
        self.octopush.callbacks.url = f"{base}/octopush/callback/{keys.callback_token}"
        self.client = SlackClient(
            world,
            events_url=f"{base}/slack/events",
            hooks_url=f"{base}/slack-hooks",
            signing_secret=keys.signing_secret,
        )
        self._exit.callback(self.client.close)
        workflows = WorkflowRuns(
            events_url=f"{base}/slack/events",
            signing_secret=keys.signing_secret,
            changes=changes,
        )
        self._exit.callback(workflows.close)
        self.slack.steps = workflows.handle
        ui = UiApi(
            client=self.client,
            octopush=self.octopush,
            changes=changes,
            workflows=workflows,
        )
        site = PlaygroundSite(slack=self.slack, octopush=self.octopush, ui=ui)
        server.start(site)
        site.bot = self._build_bot(settings)
        site.alerts = AlertFirer(
            f"{base}/hooks/alertmanager/{INTEGRATION}", keys.hook_token
        )
        return Started(f"{base}/", ignored, self.workdir / AUDIT_FILE)

    def _build_bot(self, settings: Settings) -> WSGIApp:
        """Exactly what ``bot.runtime.web.application()`` does, with our settings."""
        stack = build_stack(settings, transport="http")
        self._exit.callback(stack.service.store.close)
        self._exit.callback(stack.service.octopush.close)
        self._exit.callback(stack.executor.shutdown, wait=True)
        self._exit.callback(stack.stop_workers)
        # Everyone's language now, before the URL is printed: the stand-in answers at
        # once, so Bob's first answer is already French (serve reads it on a thread).
        if stack.languages is not None:
            stack.languages.warm()
        start_recovery(stack.service, report=stack.announce)
        # Post updates (receipts), escalations and the daily purge, as in serve.
        stack.start_workers(
            escalation_check_seconds=settings.sms.escalation_check_seconds
        )
        token = settings.octopush.callback_token
        web = create_wsgi_app(
            stack.app,
            store=stack.service.store,
            inbound=stack.inbound,
            callback_token=token.get_secret_value() if token else None,
            alerts=stack.alerts,  # /hooks: alerts page as in serve
            commands=stack.sender.queue if stack.sender is not None else None,
        )
        self._exit.callback(web.close)  # stop the callback inbox worker first
        return web

    def stop(self) -> None:
        self._exit.close()
