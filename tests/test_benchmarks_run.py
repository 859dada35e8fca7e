"""The analytics benchmark keeps working: its quick mode runs in CI (targets are judged only
in full runs, whose figures are in docs/benchmarks.md).

It runs with `--no-baselines`, and with the bench extra's packages (networkx, scikit-learn,
psutil) made unimportable, so it needs nothing the test install lacks: our influence and top-k
scores are checked against numpy/scipy references computed from the definitions instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import REPO

BENCH_EXTRA = ("networkx", "sklearn", "psutil")


def test_analytics_benchmark_quick_mode_runs_without_the_bench_extra(tmp_path: Path) -> None:
    # Modules of the same names first on the path, refusing to load (in the spawned
    # similarity processes too: they inherit PYTHONPATH).
    for name in BENCH_EXTRA:
        (tmp_path / f"{name}.py").write_text(f"raise ImportError('{name} is hidden from this test')\n")
    path = os.pathsep.join([str(tmp_path), str(REPO), os.environ.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "analytics.py"), "--quick", "--no-baselines"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout

    # Influence on both graphs and the sampled top-10 scores equal the references.
    agreements = re.findall(r"max \|difference\| (\S+) \(agrees with the reference: (\w+)\)", out)
    assert len(agreements) == 3, out
    assert all(agrees == "yes" and float(difference) <= 1e-9 for difference, agrees in agreements), out
    assert out.count("update equals full recompute: True") == 2, out
    assert "converged True" in out
    assert "same top-10 scores as a numpy reference on 42 sampled profiles" in out
    assert "this process only: psutil is not installed" in out
    # Every target prints a verdict; the speed-ups over the baselines are not judged.
    assert out.count("target not checked (--no-baselines)") == 3, out
    assert "median <= 2 ms: target" in out and "< 500 MB: target" in out
    assert "networkx (build" not in out and "scikit-learn brute" not in out
