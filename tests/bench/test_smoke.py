"""The benchmark suite at smoke size: every benchmark runs and reports (no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "Ticket creates through intake's HTTP API",
    "Event -> KPI visible in metrics",
    "Projection rebuild from offset 0",
    "KPI queries at",
    "Memory (RSS per service)",
    "SLA timers: live clocks and mass expiry",
)


@pytest.mark.timeout(240)
def test_every_benchmark_runs_and_reports_at_smoke_size(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--python-load", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=230,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = out.read_text()
    for section in SECTIONS:
        assert f"#### {section}" in report, section
    assert "Failed:" not in report
    assert "| creates/s, 8 clients |" in report
    assert "python (bench.httpload, second process)" in report
    assert "dashboard refresh (first) at 2,000 tickets: all its calls" in report
    assert "dashboard refresh (again) at 2,000 tickets: all its calls" in report
    assert "dashboard refresh (team filter chosen) at 2,000 tickets: all its calls" in report
