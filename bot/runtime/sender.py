"""The sender: claims stored ``/sms`` commands and runs each through the one send path.

The ack stores a command (:meth:`Sender.store`) and answers; what happens next depends
on ``SMS_SENDER``:

- ``process`` (the default): ``serve`` and gunicorn start ``sms-bot sender`` beside the
  web process, which runs the commands; the web process does nothing more for them,
  so a send's CPU never delays an ack.
- ``external``: the web process only stores; run ``sms-bot sender`` yourself (as many
  as you like, on any instance sharing the database).
- ``inline``: the process that acked runs its own command on its listener pool
  (:meth:`Sender.run_here`), and a dispatcher takes the commands a crash left behind.
  The playground and the tests' harness run this way.

Every way claims the row first (the callback inbox's compare-and-set lease), so a
command is run by one sender; one whose sender died is claimed again when its lease
runs out, and the send path's request id makes that second run answer "already
handled" instead of texting twice. A sender wakes at once for new work: PostgreSQL
``LISTEN``/``NOTIFY`` across instances, a local datagram socket named after the queue
file on SQLite, and a poll every second as a net.
"""

from __future__ import annotations

import hashlib
import json
import logging
import select
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Self

from bot.audit.commands import NOTIFY_CHANNEL, CommandQueue, queue_file
from bot.audit.inbox import InboxItem
from bot.errors import AuditStoreError
from bot.runtime.listener_pool import ListenerPool

logger = logging.getLogger(__name__)

#: ``SMS_SENDER``: who runs the stored commands.
SenderMode = Literal["process", "external", "inline"]

#: Commands run at once by one sender (a burst of pages must not queue behind a slow
#: gateway: see BENCHMARKS.md).
SENDER_THREADS = 32
#: Seconds between two heartbeats of a sender (``/healthz`` reads them).
HEARTBEAT_SECONDS = 10.0
#: A sender silent this long is not alive.
ALIVE_WITHIN = timedelta(seconds=60)
#: Run commands are kept this long (their bodies are dropped at once), then removed.
KEEP_RUN_COMMANDS = timedelta(days=7)
PURGE_EVERY_SECONDS = 3600.0
#: In ``inline`` mode the dispatcher leaves a fresh command to the process that
#: stored it (it runs it on its listener pool); older ones were left by a crash.
INLINE_GRACE = timedelta(seconds=10)

#: What runs one stored command: its kind and its payload.
Runner = Callable[[str, dict[str, Any]], None]


class Sender:
    """Stores commands for the ack and runs claimed ones on a thread pool."""

    def __init__(
        self,
        queue: CommandQueue,
        *,
        mode: SenderMode = "process",
        threads: int = SENDER_THREADS,
        poll_seconds: float = 1.0,
    ) -> None:
        self.queue = queue
        self.mode = mode
        self._threads = threads
        self._poll = poll_seconds
        #: Who holds a claim: unique per process, so a restart never inherits one.
        self.owner = f"sender-{uuid.uuid4().hex[:12]}"
        self._run: Runner | None = None
        self._pool: ListenerPool | None = None
        self._wake: threading.Event | _RungWake = threading.Event()
        self._stopped = threading.Event()
        #: Set first when stopping: no new claims, the ones in hand still renewed.
        self._no_more_claims = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._threads_started: list[threading.Thread] = []
        self._held: set[int] = set()
        self._held_lock = threading.Lock()
        self._dispatching = 0
        #: The last claim filled every free slot (commands may still wait).
        self._more_waiting = False
        self._started_at = queue.now()
        self._local: LocalWake | None = None
        #: ``inline``: how old a command must be before the dispatcher takes it.
        self.inline_grace = INLINE_GRACE
        if mode != "inline":
            path = queue_file(queue.store)
            if path is not None:
                self._local = LocalWake(str(path))
                queue.on_stored.append(self._local.ring)

    @property
    def inline(self) -> bool:
        """True when the acking process runs its own stored commands."""
        return self.mode == "inline"

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def runner(self) -> Runner | None:
        return self._run

    def bind(self, run: Runner) -> None:
        """What runs a command (the ``/sms`` handlers); set once the app is built."""
        self._run = run

    # --- the ack's side ------------------------------------------------------------------

    def store(
        self, kind: str, request_id: str, command: Mapping[str, Any]
    ) -> int | None:
        """Store a command before the ack answers; its row id (None: stored already,
        and the send path answers the copy with what became of the first).

        Raises:
            AuditStoreError: not stored (the ack says nothing was done).
        """
        return self.queue.put_command(kind, request_id, dict(command))

    def run_here(self, item_id: int) -> bool:
        """``inline``: run the command this process just stored, if still unclaimed.
        False in the other modes (a sender runs it)."""
        if self.mode != "inline":
            return False
        item = self.queue.claim_one(item_id, self.owner)
        if item is None:
            return False
        self._hold(item.id)
        self._execute(item)
        return True

    # --- the sender's side ---------------------------------------------------------------

    def start(self) -> Self:
        """Start the dispatcher, the lease renewals, the heartbeat and the wake-ups."""
        self._pool = ListenerPool(self._threads, thread_name_prefix="sms-sender")
        if self.mode != "inline":
            if self.queue.notifies:
                self._spawn(self._listen_postgres, "sms-sender-listen")
            elif self._local is not None and self._local.bind():
                # The dispatcher waits on the socket itself: one thread hand-off fewer
                # between an ack and its claim.
                self._wake = _RungWake(self._local)
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="sms-sender-dispatch", daemon=True
        )
        self._dispatcher.start()
        self._spawn(self._renew_loop, "sms-sender-lease")
        self._spawn(self._heartbeat_loop, "sms-sender-heartbeat")
        return self

    def wake(self) -> None:
        self._wake.set()

    def idle(self) -> bool:
        """True when no command is being claimed or run (tests wait for it)."""
        with self._held_lock:
            busy = bool(self._held) or self._dispatching > 0
        return not busy and (self._pool is None or self._pool.idle())

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the commands in hand, then stop; unclaimed ones wait for a sender.

        The claims stop first; the commands in hand run to their end with their
        leases still renewed (a long send is never taken by another sender), and the
        heartbeat and renewals stop last.
        """
        self._no_more_claims.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._stopped.set()
        if self._local is not None:
            self._local.close()
        for thread in self._threads_started:
            thread.join(timeout)
        self._threads_started.clear()
        try:
            self.queue.empty_copied()  # no text left behind in the acks' intake
            self.queue.forget_sender(self.owner)
        except AuditStoreError as error:
            logger.warning("could not remove this sender's heartbeat: %s", error)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads_started.append(thread)

    def _dispatch_loop(self) -> None:
        while not self._no_more_claims.is_set():
            self._wake.clear()
            claimed = 0
            with self._held_lock:
                free = self._threads - len(self._held)
                self._dispatching += 1
            try:
                if free > 0:
                    claimed = self._claim_and_submit(free)
            except AuditStoreError as error:
                logger.warning("command queue unavailable, retrying: %s", error)
            finally:
                with self._held_lock:
                    self._dispatching -= 1
            # A claim that left free slots took all there was: wait for the next
            # ring. Claiming again at once found nothing, and its transaction held
            # the GIL while the commands just handed over waited for it.
            if not claimed or not self._more_waiting:
                self._wake.wait(self._poll)

    def _claim_and_submit(self, free: int) -> int:
        before = self.queue.now() - self.inline_grace if self.mode == "inline" else None
        items = self.queue.claim(self.owner, limit=free, stored_before=before)
        # Every free slot taken: more may wait, so a finished command looks again.
        self._more_waiting = len(items) == free
        assert self._pool is not None
        for item in items:
            self._hold(item.id)
            self._pool.submit(self._execute, item)
        return len(items)

    def _hold(self, item_id: int) -> None:
        with self._held_lock:
            self._held.add(item_id)

    def _execute(self, item: InboxItem) -> None:
        """Run one claimed command; never retried (it may have texted): a failure is
        logged and the row finished, and the person was told by the handler."""
        outcome = "run"
        try:
            payload = json.loads(item.body)
            if self._run is None:
                raise RuntimeError("no runner bound to the sender")
            if item.attempts > 1:
                logger.warning(
                    "stored command #%d claimed again (attempt %d): its sender stopped "
                    "before finishing it",
                    item.id,
                    item.attempts,
                )
            self._run(item.content_type or "", payload)
        except Exception:
            outcome = "failed"
            logger.exception("stored command #%d failed", item.id)
        finally:
            try:
                self.queue.finish(item.id, self.owner, outcome)
            except AuditStoreError as error:
                logger.error(
                    "stored command #%d ran but could not be marked run (%s); a sender "
                    "will find it already handled",
                    item.id,
                    error,
                )
            with self._held_lock:
                self._held.discard(item.id)
            if self._more_waiting and not self._wake.is_set():
                self._wake.set()  # a slot is free and commands wait: claim them

    def _renew_loop(self) -> None:
        every = max(self.queue.lease.total_seconds() / 3, 0.01)
        while not self._stopped.wait(every):
            with self._held_lock:
                held = set(self._held)
            if not held:
                continue
            try:
                self.queue.renew(held, self.owner)
            except AuditStoreError as error:
                logger.warning("renewing command claims failed: %s", error)

    def _heartbeat_loop(self) -> None:
        """The heartbeat every 10 s, with the intake's copied bodies emptied; once an
        hour, forget the commands run a week ago (their bodies are already gone) and
        senders silent for an hour."""
        purge_at = 0.0
        while True:
            try:
                self.queue.heartbeat(self.owner, started_at=self._started_at)
                self.queue.empty_copied()
                if time.monotonic() >= purge_at:
                    now = self.queue.now()
                    self.queue.purge(older_than=now - KEEP_RUN_COMMANDS)
                    self.queue.purge_senders(older_than=now - ALIVE_WITHIN * 60)
                    purge_at = time.monotonic() + PURGE_EVERY_SECONDS
            except AuditStoreError as error:
                logger.warning("sender heartbeat not written: %s", error)
            if self._stopped.wait(HEARTBEAT_SECONDS):
                return

    def _listen_postgres(self) -> None:
        """Wake on ``NOTIFY`` from any instance; reconnect after a failure."""
        import psycopg

        url = self.queue.store.engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        while not self._stopped.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._wake.set()  # anything stored while we were not listening
                    while not self._stopped.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except psycopg.Error as error:
                logger.warning("LISTEN for stored commands failed, retrying: %s", error)
                # Again within a second whatever the poll: a sender polling seldom
                # must not stay that long unwoken after a cut (a restart, a failover).
                self._stopped.wait(min(self._poll, 1.0))


@dataclass(frozen=True)
class SenderHealth:
    """Whether a sender is alive, and how long the oldest unclaimed command waited."""

    last_seen: datetime | None
    alive: bool
    waiting: timedelta | None

    @property
    def stalled(self) -> bool:
        """A command has waited a minute and no sender is alive: an operator must act."""
        return (
            self.waiting is not None and self.waiting >= ALIVE_WITHIN and not self.alive
        )


def sender_health(queue: CommandQueue) -> SenderHealth:
    """Read the heartbeats and the oldest waiting command.

    Raises:
        AuditStoreError: the queue cannot be read.
    """
    now = queue.now()
    last_seen = queue.last_heartbeat()
    oldest = queue.oldest_waiting()
    return SenderHealth(
        last_seen=last_seen,
        alive=last_seen is not None and now - last_seen <= ALIVE_WITHIN,
        waiting=max(now - oldest, timedelta(0)) if oldest is not None else None,
    )


class _RungWake:
    """The dispatcher's wake-up when it listens on this machine's socket: what would set
    an event rings the socket, so one wait hears the acks and this process alike."""

    def __init__(self, local: LocalWake) -> None:
        self._local = local

    def set(self) -> None:
        self._local.ring()

    def is_set(self) -> bool:
        return False  # a ring is as cheap as asking

    def clear(self) -> None:
        """Nothing to clear: a wait consumes every ring it finds."""

    def wait(self, timeout: float) -> bool:
        return self._local.wait(timeout)


class LocalWake:
    """Wakes a sender on this machine: a datagram to an abstract Unix socket named
    after the queue file (Linux). A ring nobody hears is fine (the poll finds it)."""

    def __init__(self, key: str) -> None:
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        self._address = f"\0sms-bot-{digest}"
        self._listener: socket.socket | None = None
        #: One unbound socket rings for every thread: opening one per ring cost 50 µs
        #: of the ack (2 µs to send on a kept one).
        self._bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._bell.setblocking(False)
        #: Closed with this object even when nobody calls close (an ack's side).
        self._close_bell = weakref.finalize(self, self._bell.close)

    def ring(self) -> None:
        try:
            self._bell.sendto(b"!", self._address)
        except OSError:
            pass  # no sender listening here, or its buffer is full: the poll finds it

    def bind(self) -> bool:
        """Listen; False when another sender on this machine already does."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            listener.bind(self._address)
        except OSError:
            listener.close()
            return False
        listener.setblocking(False)
        self._listener = listener
        return True

    def wait(self, timeout: float) -> bool:
        """True when rung within ``timeout`` (every pending ring is consumed)."""
        listener = self._listener
        if listener is None:
            return False
        try:
            ready, _, _ = select.select([listener], [], [], timeout)
            if not ready:
                return False
            while True:
                listener.recv(16)
        except BlockingIOError:
            return True
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._listener = None
        self._close_bell()
