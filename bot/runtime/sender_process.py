"""``sms-bot sender``, and the one that ``serve`` and gunicorn start beside the web process.

With ``SMS_SENDER=process`` (the default) the gunicorn master (the Procfile's, or
``serve``'s) starts one ``sms-bot sender`` when it is ready and stops it when it exits;
a sender that dies is started again. The child asks the kernel to stop it if its parent
dies without stopping it (``SIGKILL`` of the master), so none is left behind.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

from bot.config import Settings

logger = logging.getLogger(__name__)

#: Tells ``sms-bot sender`` which process started it (it stops when that one dies).
PARENT_VARIABLE = "SMS_BOT_SENDER_PARENT"
#: Seconds before a sender that died is started again.
RESTART_AFTER_SECONDS = 2.0


def run_sender(settings: Settings) -> int:
    """Run stored commands until ``SIGTERM`` or Ctrl-C; commands in hand finish first."""
    from bot.runtime.slack_app import build_stack

    _stop_with_parent()
    _yield_cores(settings.sms.sender_nice)
    stack = build_stack(settings, transport="none", sender_mode="external")
    assert stack.sender is not None
    # A page's post may be updated later (coalesced), from this process too.
    stack.updates.start()
    sender = stack.sender.start()
    logger.warning(
        "sender %s: running the stored /sms commands (threads: %d)",
        sender.owner,
        sender.threads,
    )
    stopping = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        # Once only: the kernel sends the parent-death signal once per thread of the
        # parent that exits (a killed gunicorn master has two), and a second SIGTERM
        # must not cut short the stop of the first.
        if not stopping.is_set():
            stopping.set()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        while True:
            time.sleep(0.2)  # wakes the main thread for a signal another thread got
    except KeyboardInterrupt:
        stopping.set()
        logger.warning(
            "sender %s: stopping (commands in hand finish first)", sender.owner
        )
    finally:
        sender.stop()
        stack.updates.stop()  # what is still pending goes out once, now
        if stack.home is not None:
            stack.home.stop()
        sender.queue.close()
        stack.service.store.close()
        signal.signal(signal.SIGTERM, previous)  # after the stop: repeats ignored
    return 0


def _yield_cores(steps: int) -> None:
    """Run at a lower CPU priority than the web process (``SMS_SENDER_NICE``).

    The sender and the process that acks share the machine's cores. A send may start a
    few milliseconds later; an ack must answer Slack within 3 s whatever the sends do.
    The total work is the same, so sends drain as fast when the cores are free.
    """
    if steps <= 0 or not hasattr(os, "nice"):
        return
    try:
        os.nice(steps)
    except OSError as error:
        logger.warning("sender: CPU priority not lowered (%s)", error)


def _stop_with_parent() -> None:
    """Linux: get ``SIGTERM`` when the process that started us dies (``SIGKILL``)."""
    parent = os.environ.get(PARENT_VARIABLE)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        logger.warning("cannot ask to stop with the web process; stop me yourself")
        return
    if str(os.getppid()) != parent:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


class SenderChild:
    """One ``sms-bot sender`` beside the web process, started again if it dies."""

    def __init__(self, argv: list[str] | None = None) -> None:
        self._argv = argv or [sys.executable, "-m", "bot", "sender"]
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watch: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self._spawn()
        self._watch = threading.Thread(
            target=self._keep_alive, name="sms-sender-watch", daemon=True
        )
        self._watch.start()

    def stop(self, timeout: float = 25.0) -> None:
        """``SIGTERM``, wait for the commands in hand, then ``SIGKILL`` if it must."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.error("the sender did not stop in %s s: killed", timeout)
            process.kill()
            process.wait()

    def _spawn(self) -> None:
        environment = dict(os.environ, **{PARENT_VARIABLE: str(os.getpid())})
        with self._lock:
            self._process = subprocess.Popen(self._argv, env=environment)

    def _keep_alive(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                process = self._process
            assert process is not None
            code = process.wait()
            if self._stopping.is_set():
                return
            if code == 0:
                # A clean stop (a SIGTERM to the whole group, as platforms stop a
                # dyno): the master is stopping too, so do not start another.
                logger.warning("the sender stopped cleanly; not started again")
                return
            logger.error(
                "the sender exited (code %s); starting it again in %s s",
                code,
                RESTART_AFTER_SECONDS,
            )
            if self._stopping.wait(RESTART_AFTER_SECONDS):
                return
            self._spawn()


_CHILD: SenderChild | None = None


def start_sender_child(settings: Settings) -> SenderChild | None:
    """Start the sender beside the web process when ``SMS_SENDER=process``."""
    global _CHILD
    if settings.sms.sender != "process" or _CHILD is not None:
        return _CHILD
    _CHILD = SenderChild()
    _CHILD.start()
    return _CHILD


def stop_sender_child() -> None:
    global _CHILD
    if _CHILD is not None:
        _CHILD.stop()
        _CHILD = None
