"""SQLite writers take turns on a lock beside the file instead of sleeping in SQLite's
busy handler: a writer in another process holding the turn makes ours wait for it,
and ours goes in as soon as it is released."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bot.audit import AuditStore
from bot.audit.write_turn import WriteTurn, lock_file_for

HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
print(repr(time.monotonic()), flush=True)
fcntl.lockf(fd, fcntl.LOCK_UN)
"""


def test_a_writer_waits_for_another_process_s_turn_then_goes_in(tmp_path: Path) -> None:
    store = AuditStore.from_url(f"sqlite:///{tmp_path}/audit.db")
    lock = lock_file_for(str(tmp_path / "audit.db"))
    assert lock == tmp_path / "audit.db-writer.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock), "0.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with store.transaction("write", write=True):
            entered = time.monotonic()
        released = float(holder.stdout.readline())
    finally:
        holder.communicate(timeout=10)
        store.close()
    # Ours went in only once the other process had let go (the kernel woke it).
    assert entered >= released


def test_nested_writes_in_one_thread_do_not_wait_for_themselves(tmp_path: Path) -> None:
    turn = WriteTurn(tmp_path / "x-writer.lock")
    with turn(), turn():
        pass
    turn.close()


def test_an_in_memory_database_has_no_lock_file() -> None:
    assert lock_file_for(":memory:") is None
    assert lock_file_for(None) is None
