"""``python -m bench``: every benchmark in turn, then one table of ratios and verdicts.

``python -m bench ack bulk`` runs only those. Each benchmark measures its own
baseline in the same run; see BENCHMARKS.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

from bench import ack, bulk, coldstart, e2e, throughput
from bench.harness import Verdict, print_verdicts

BENCHMARKS: dict[str, Callable[[], list[Verdict]]] = {
    "ack": ack.run,
    "throughput": throughput.run,
    "bulk": bulk.run,
    "coldstart": coldstart.run,
    "e2e": e2e.run,
}


def machine() -> str:
    """``nproc``, the CPU model and the Python version, for the record."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)}")
    names = parser.parse_args().names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    print(f"machine: {machine()}")
    started = time.perf_counter()
    verdicts: list[Verdict] = []
    for name in names:
        print(f"\n##### {name}", flush=True)
        verdicts.extend(v for v in BENCHMARKS[name]() if v.passed is not None)
    print_verdicts(f"summary ({time.perf_counter() - started:.0f} s)", verdicts)
    missed = [v for v in verdicts if v.passed is False]
    print(f"\n{len(verdicts) - len(missed)} PASS, {len(missed)} MISS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
