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


def test_inbox_benchmark_sends_every_kind_and_finds_each_stored_once() -> None:
    """A short run of bench_inbox.py: every kind alone and the mix are answered 202 and stored
    exactly once (the script exits non-zero otherwise); the speed targets are not judged here."""
    result = _bench("bench_inbox.py", "--count", "24", "--mix-count", "100")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    kinds = [
        "post",
        "mention",
        "mention_personal",
        "answer",
        "like",
        "announce",
        "follow",
        "undo",
        "update",
        "delete",
    ]
    for kind in kinds:
        assert re.search(rf"^{kind} +24 in .*\[202x24\]", out, re.MULTILINE), (kind, out)
        assert re.search(rf"^stored, {kind}: 24 activities, 24 distinct", out, re.MULTILINE), (kind, out)
    assert re.search(r"^mix +100 in .*\[202x100\]", out, re.MULTILINE), out
    assert "stored, mention_personal: 24 activities, 24 distinct, 24 posts, 24 mention edges" in out
    assert "slowest kind:" in out and "mix:" in out


def test_the_recommendation_shortlist_benchmark_runs_and_finds_the_exact_top_ten() -> None:
    result = _bench("recommend_scale.py", "--people", "4000", "--queries", "5")
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"every candidate scored \(baseline\): median [\d.]+ ms", result.stdout), result.stdout
    found = result.stdout
    recall = re.search(r"recall@10 against the baseline: ([\d.]+) \(target >= 0.95\): target (\w+)", found)
    assert recall is not None and float(recall.group(1)) >= 0.95 and recall.group(2) == "met", result.stdout


def _bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )
