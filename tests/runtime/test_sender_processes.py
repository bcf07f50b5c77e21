"""Stored ``/sms`` commands survive killed processes: real gunicorn, real senders.

Each test runs the Procfile's gunicorn command and ``sms-bot sender`` as the platform
would, on SQLite and on PostgreSQL, and kills them where it hurts:

1. The web process dies right after its ack (``SMS_SENDER=external``, so nothing ran the
   command yet): a sender started later sends it, once, and posts the result.
2. The sender dies while Octopush holds its request: a second sender takes the command
   once the claim's lease ran out, and the send path answers "already started" (same
   request id, outcome unknown) instead of texting twice.
3. The default mode: the gunicorn master starts the sender, and no process outlives the
   master, whether it is stopped (``SIGTERM``) or killed (``SIGKILL``: the sender gets
   ``SIGTERM`` from the kernel when its parent dies).

Every wait has a deadline; every process started is killed (its whole group) at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from bot.audit import AuditStore
from bot.audit.commands import open_command_queue
from bot.audit.tables import command_senders, stored_commands
from bot.domain import AuditStatus
from tests.conftest import SENT, SIGNING_SECRET
from tests.conftest import wait_until as shared_wait_until
from tests.fakes.slack import FakeSlack
from tests.faults.octopush import FaultyOctopush
from tests.runtime.served import (
    Background,
    Server,
    base_environment,
    free_port,
    group_members,
    kill_group,
    process_table,
    procfile_command,
    sender_command,
)
from tests.runtime.slack_forgery import ALLOWED_USER, NUMBER, command_body, post_signed

SEND_PATH = "/v1/public/sms-campaign/send"
TEXT = "Disk full"
#: How long a process may take to start, a command to be sent, a process to stop.
DEADLINE = 15.0

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = DEADLINE,
    logs: Iterable[Path] = (),
) -> T:
    """The shared :func:`tests.conftest.wait_until` (polled every 50 ms: each check
    opens the database), its failure showing the tail of each log in ``logs``."""
    try:
        return shared_wait_until(condition, timeout, what=what, interval=0.05)
    except AssertionError as failure:
        for log in logs:
            if log.exists():
                failure.add_note(f"--- {log.name}\n{log.read_text()[-3000:]}")
        raise


class Processes:
    """The servers and senders a test starts; every group is killed when it ends."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def server(self, env: dict[str, str]) -> Server:
        server = Server(procfile_command(), env, self.cwd)
        self.started.append(server.process)
        self.logs.append(server.log)
        server.wait_until_up()
        return server

    def sender(self, env: dict[str, str], name: str) -> Background:
        sender = Background(sender_command(), env, self.cwd, name)
        self.started.append(sender.process)
        self.logs.append(sender.log)
        return sender

    def kill_all(self) -> None:
        for process in self.started:
            # The group outlives its leader: a gunicorn master killed alone leaves its
            # worker and its sender in it, until they stop. Its number is ours while
            # the leader is unreaped or a member lives; after that it may be anyone's.
            if process.poll() is None or group_members(process.pid):
                kill_group(process.pid, signal.SIGKILL)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture
def processes(database_url: str, tmp_path: Path) -> Iterator[Processes]:
    """Depends on ``database_url``: the processes are gone before its tables drop."""
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.kill_all()


def environment(
    tmp_path: Path, fake_slack: FakeSlack, octopush_url: str, database_url: str
) -> dict[str, str]:
    env = base_environment(
        tmp_path,
        port=free_port(),
        slack_url=fake_slack.api_url,
        octopush_url=octopush_url,
        database=database_url,
    )
    env["SMS_ALLOWED_USERS"] = ALLOWED_USER
    del env["SMS_SENDER"]  # each test says its mode; none: the default
    return env


def send_command(server: Server, fake_slack: FakeSlack) -> None:
    """POST a signed ``/sms +33612345678 Disk full``; the ack says it is sending."""
    body = command_body(
        f"{NUMBER} {TEXT}", response_url=fake_slack.webhook_url("command")
    )
    response = post_signed(f"{server.url}/slack/events", SIGNING_SECRET, body)
    assert response.status_code == 200, response.text
    assert "Sending to" in response.json()["text"], response.text


def serve_and_ack(
    processes: Processes, env: dict[str, str], fake_slack: FakeSlack
) -> Server:
    """Start the web process and have it ack (store) one ``/sms``."""
    server = processes.server(env)
    send_command(server, fake_slack)
    return server


def sender_mid_send(
    processes: Processes, env: dict[str, str], octopush: FaultyOctopush, name: str
) -> Background:
    """Start a sender and wait until Octopush holds its send (its answer stalls)."""
    sender = processes.sender(env, name)
    wait_until(lambda: octopush.received, "the send at Octopush", logs=processes.logs)
    return sender


def queue_engine(database_url: str) -> sa.Engine:
    """The command queue's database: a file beside a SQLite audit trail, else the same."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        audit = Path(url.database or "")
        return sa.create_engine(
            f"sqlite:///{audit.with_name(audit.stem + '.commands' + audit.suffix)}"
        )
    return sa.create_engine(database_url)


def read_table(database_url: str, table: sa.Table) -> list[dict[str, Any]]:
    engine = queue_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(table)).mappings().all()
    except sa.exc.OperationalError:  # the SQLite file or the table is not there yet
        return []
    finally:
        engine.dispose()
    return [dict(row) for row in rows]


def stored(database_url: str) -> list[dict[str, Any]]:
    """The ``stored_commands`` rows (without their bodies), oldest first."""
    rows = sorted(read_table(database_url, stored_commands), key=lambda r: r["id"])
    return [{k: v for k, v in row.items() if k != "body"} for row in rows]


def finished(database_url: str) -> list[dict[str, Any]]:
    """The stored commands, once every one has been run (else empty)."""
    rows = stored(database_url)
    return rows if rows and all(r["processed_at"] is not None for r in rows) else []


def waiting(database_url: str) -> int:
    """How many stored commands no sender took (on SQLite, in the acks' intake)."""
    store = AuditStore.from_url(database_url)
    queue = open_command_queue(store)
    try:
        return queue.waiting()
    finally:
        queue.close()
        store.close()


def sends(octopush: HTTPServer) -> list[dict[str, Any]]:
    """The bodies of the ``sms-campaign/send`` requests Octopush received."""
    return [
        json.loads(request.get_data())
        for request, _ in octopush.log
        if request.path == SEND_PATH
    ]


def audited(database_url: str) -> list[tuple[str | None, AuditStatus]]:
    store = AuditStore.from_url(database_url)
    try:
        return [(r.text, r.status) for r in store.recent(limit=10)]
    finally:
        store.close()


@pytest.fixture
def octopush(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_json(
        SENT, status=201
    )
    return httpserver


# --- 1. the web process dies right after the ack ----------------------------------------


@pytest.mark.parametrize(
    "signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"]
)
def test_a_command_acked_by_a_web_process_that_died_is_sent_by_a_sender_started_later(
    signum: signal.Signals,
    tmp_path: Path,
    fake_slack: FakeSlack,
    octopush: HTTPServer,
    database_url: str,
    processes: Processes,
) -> None:
    env = environment(
        tmp_path, fake_slack, octopush.url_for("/v1/public"), database_url
    )
    env["SMS_SENDER"] = "external"  # no sender runs until the test starts one
    server = serve_and_ack(processes, env, fake_slack)
    kill_group(server.process.pid, signum)
    code = server.process.wait(DEADLINE)

    assert code == (0 if signum == signal.SIGTERM else -signal.SIGKILL)
    assert sends(octopush) == []  # the web process only stored it
    assert waiting(database_url) == 1

    sender = processes.sender(env, "sender")
    (row,) = wait_until(
        lambda: finished(database_url), "the command run", logs=processes.logs
    )
    (post,) = fake_slack.wait_for("chat.postMessage", timeout=DEADLINE)

    assert [body["text"] for body in sends(octopush)] == [TEXT]
    assert [r["phone_number"] for r in sends(octopush)[0]["recipients"]] == [NUMBER]
    assert (row["outcome"], row["attempts"]) == ("run", 1)
    assert post.args["channel"] == "C1"
    assert sender.stop() == 0, sender.log.read_text()
    assert read_table(database_url, command_senders) == []  # a clean stop says so
    assert audited(database_url) == [(TEXT, AuditStatus.SENT)]


# --- 2. the sender dies while Octopush holds its request ---------------------------------


@pytest.fixture
def slow_octopush() -> Iterator[FaultyOctopush]:
    """Holds the answer of the first send (it went out: a repeat gets code 120)."""
    fake = FaultyOctopush().start()
    fake.stall_next = 3.0
    yield fake
    fake.stop()


def test_a_sender_killed_mid_send_leaves_its_command_to_another_that_does_not_text_again(
    tmp_path: Path,
    fake_slack: FakeSlack,
    slow_octopush: FaultyOctopush,
    database_url: str,
    processes: Processes,
) -> None:
    env = environment(tmp_path, fake_slack, slow_octopush.url, database_url)
    env.update(SMS_SENDER="external", SMS_SENDER_LEASE_SECONDS="1")
    server = serve_and_ack(processes, env, fake_slack)

    first = sender_mid_send(processes, env, slow_octopush, "first-sender")
    first.signal_group(signal.SIGKILL)
    assert first.process.wait(DEADLINE) == -signal.SIGKILL
    (held,) = stored(database_url)
    assert (held["processed_at"], held["attempts"]) == (None, 1)

    second = processes.sender(env, "second-sender")
    (row,) = wait_until(
        lambda: finished(database_url), "the command run again", logs=processes.logs
    )

    # Claimed again once the killed sender's lease ran out, and run through the send
    # path under the same request id: "already started", nothing sent again.
    assert (row["outcome"], row["attempts"]) == ("run", 2)
    assert row["claimed_by"] != held["claimed_by"]
    assert len(slow_octopush.received) == 1, slow_octopush.received
    (answer,) = fake_slack.wait_for("webhook/command", timeout=DEADLINE)
    # Its attempt is still pending (the first sender died after calling Octopush):
    # the person is told it may have gone out, never that nothing happened.
    assert "already started" in answer.args["text"], answer.args
    assert "may have gone out" in answer.args["text"], answer.args
    assert fake_slack.calls("chat.postMessage") == []  # the first never got its answer
    # The attempt stays pending (its sender died before the answer): the web
    # process's sweep settles it once its send lease and a minute have passed.
    assert audited(database_url) == [(TEXT, AuditStatus.PENDING)]
    assert second.stop() == 0, second.log.read_text()
    assert server.stop() == 0, server.log.read_text()
    assert len(slow_octopush.received) == 1


def test_a_sender_told_to_stop_twice_mid_send_finishes_the_send_first(
    tmp_path: Path,
    fake_slack: FakeSlack,
    slow_octopush: FaultyOctopush,
    database_url: str,
    processes: Processes,
) -> None:
    """The kernel sends a sender one ``SIGTERM`` per exiting thread of its parent (a
    killed gunicorn master has two): the second must not cut the first's stop short."""
    env = environment(tmp_path, fake_slack, slow_octopush.url, database_url)
    env["SMS_SENDER"] = "external"
    server = serve_and_ack(processes, env, fake_slack)
    sender = sender_mid_send(processes, env, slow_octopush, "sender")

    sender.signal_group(signal.SIGTERM)
    wait_until(
        lambda: "stopping (commands in hand" in sender.log.read_text(),
        "the sender to start stopping",
        logs=processes.logs,
    )
    sender.signal_group(signal.SIGTERM)  # while Octopush still holds the send
    code = sender.process.wait(DEADLINE)

    assert code == 0, sender.log.read_text()
    (row,) = finished(database_url)
    assert (row["outcome"], row["attempts"]) == ("run", 1)
    fake_slack.wait_for("chat.postMessage", timeout=DEADLINE)  # the result was posted
    assert audited(database_url) == [(TEXT, AuditStatus.SENT)]
    assert read_table(database_url, command_senders) == []
    assert len(slow_octopush.received) == 1
    assert server.stop() == 0, server.log.read_text()


# --- 3. the default mode: the master's sender goes with the master -----------------------


def nice_of(pid: int) -> int:
    """The process's ``nice`` value (field 19 of ``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def sender_children(master: int) -> list[int]:
    return [
        pid
        for pid, (parent, _, _, command) in process_table().items()
        if parent == master and command.endswith("-m bot sender")
    ]


@pytest.mark.parametrize(
    ("signum", "whom"),
    [
        (signal.SIGTERM, "master"),
        (signal.SIGKILL, "master"),
        (signal.SIGTERM, "group"),  # what a platform does: every process of the dyno
    ],
    ids=["SIGTERM", "SIGKILL", "SIGTERM-group"],
)
def test_the_sender_the_gunicorn_master_starts_sends_and_stops_with_the_master(
    signum: signal.Signals,
    whom: str,
    tmp_path: Path,
    fake_slack: FakeSlack,
    octopush: HTTPServer,
    database_url: str,
    processes: Processes,
) -> None:
    env = environment(
        tmp_path, fake_slack, octopush.url_for("/v1/public"), database_url
    )
    assert not any(key.startswith("SMS_SENDER") for key in env)  # the default mode
    server = processes.server(env)
    master = server.process.pid
    (sender,) = wait_until(
        lambda: sender_children(master), "the master's sender", logs=processes.logs
    )

    send_command(server, fake_slack)
    wait_until(lambda: finished(database_url), "the command run", logs=processes.logs)
    fake_slack.wait_for("chat.postMessage", timeout=DEADLINE)
    assert [body["text"] for body in sends(octopush)] == [TEXT]
    beats = wait_until(
        lambda: read_table(database_url, command_senders), "the sender's heartbeat"
    )
    assert [beat["pid"] for beat in beats] == [sender]
    # It leaves the cores to the process that acks (SMS_SENDER_NICE, 10 by default).
    assert nice_of(sender) == nice_of(master) + 10
    family = group_members(master)
    assert sender in family and len(family) >= 3  # master, worker, sender

    if whom == "master":
        os.kill(master, signum)  # the master alone: it must take its sender along
    else:
        kill_group(master, signum)
    code = server.process.wait(30)

    assert code == (0 if signum == signal.SIGTERM else -signal.SIGKILL)
    wait_until(
        lambda: not group_members(master),
        "every process of the server to exit",
        logs=processes.logs,
    )
    log = server.log.read_text()
    # The sender stopped on SIGTERM (from on_exit, or from the kernel when its parent
    # died), finishing cleanly: its heartbeat is removed.
    assert "stopping (commands in hand finish first)" in log, log
    assert read_table(database_url, command_senders) == []
    assert [body["text"] for body in sends(octopush)] == [TEXT]
