"""`make prove`'s CI-sized subset (bench/prove.py --quick): a fan-out to 20 hosts with the node
SIGKILLed twice, 200 signed activities arriving while it is SIGKILLed once. What is judged are
counts (every inbox reached, nothing accepted lost, nothing stored twice, no job stuck), never
timings, so a loaded machine only makes it slower. (The 503 while the database is down is
tests/web/test_database_unavailable.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.support import REPO

pytestmark = pytest.mark.multinode


@pytest.mark.parametrize("scenario", ["crash_fanout", "crash_inbox"])
def test_the_quick_crash_scenario_meets_every_target(scenario: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "prove.py"), "--quick", "--only", scenario],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    verdicts = re.findall(r"^  (PASS|FAIL|SKIP) ", out, flags=re.MULTILINE)
    assert verdicts and set(verdicts) == {"PASS"}, out
    assert re.search(r"summary: (\d+)/\1 targets met", out), out
