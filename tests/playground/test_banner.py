"""``sms-bot playground`` prints its banner whole: nothing cuts into it.

Run as a person runs it, with the error stream merged into the output as a terminal
shows them: the banner's lines come one after the other, with no warning among them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_banner_comes_out_whole_with_nothing_in_between(tmp_path: Path) -> None:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "OCTOPUSH_", "SMS_"))
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "playground", "--port", "0"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        while not lines or "Press Ctrl-C to stop." not in lines[-1]:
            line = process.stdout.readline()
            assert line, "the playground stopped: " + "".join(lines)
            lines.append(line)
    finally:
        process.terminate()
        try:
            # Stopping joins the workers (each with its own timeout): allow for them.
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise
    assert process.returncode == 0, "SIGTERM must stop the playground cleanly"
    assert lines[0].startswith("sms-bot playground: open http://127.0.0.1:")
    assert all(line.startswith("  ") for line in lines[1:]), lines
    assert len(lines) == 4, lines  # open, stand-ins, audit trail, Ctrl-C
    assert "WARNING" not in rest and "Traceback" not in rest
