"""The metrics are made once per process, even when the first sends run at once."""

from __future__ import annotations

import subprocess
import sys

RACE = """
import threading
from bot.runtime import metrics
barrier = threading.Barrier(8)
errors, found = [], []
def first_use():
    barrier.wait()
    try:
        found.append(metrics.series())
    except Exception as error:
        errors.append(type(error).__name__)
threads = [threading.Thread(target=first_use) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors, len({id(s) for s in found}), len(found))
"""


def test_simultaneous_first_calls_share_one_series() -> None:
    # A fresh process: the series are registered in prometheus_client's global registry.
    done = subprocess.run(
        [sys.executable, "-c", RACE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["[]", "1", "8"]
