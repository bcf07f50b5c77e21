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
