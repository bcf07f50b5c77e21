"""``python -m bench.scale`` works: run tiny, it times every hot path at both sizes."""

from __future__ import annotations

import re

import pytest

from bench import scale


def test_the_scale_benchmark_runs_tiny_and_reports_every_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert scale.main(["--sizes", "60", "300", "--repeat", "3", "--sqlite-only"]) == 0
    out = capsys.readouterr().out
    assert "seeded 300 records" in out
    for path in scale.PATHS:
        line = next(
            row for row in out.splitlines() if row.startswith(f"sqlite     {path} ")
        )
        assert re.search(r"\d+\.\d\d× +(PASS|MISS)$", line), line


def test_the_report_leaves_out_a_path_a_backend_did_not_run() -> None:
    """The intake's path runs on SQLite only: PostgreSQL's lines must not need it."""
    timings = [
        scale.Timing(backend, path, size, 0.001)
        for backend in ("sqlite", "postgresql")
        for path in scale.PATHS
        if not (backend == "postgresql" and path in scale.SQLITE_ONLY)
        for size in (1_000, 1_000_000)
    ]
    lines = scale.report(timings, (1_000, 1_000_000))
    assert len(lines) == 1 + 2 * len(scale.PATHS) - len(scale.SQLITE_ONLY)
    assert not any(
        line.startswith("postgresql") and path in line
        for line in lines
        for path in scale.SQLITE_ONLY
    )
