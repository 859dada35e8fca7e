"""The analytics benchmark keeps working: its --quick mode runs in CI (targets are judged only
in full runs, whose figures are in docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO


def test_analytics_benchmark_quick_mode_runs() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "analytics.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "networkx" in result.stdout and "scikit-learn" in result.stdout
    assert "target" in result.stdout  # every target prints a verdict
