"""The proving ground: what the node promises (nothing accepted is lost, nothing is delivered
twice, it keeps serving under load and through faults) measured, each figure printed against
its target. docs/reliability.md describes the scenarios and records a run.

    .venv/bin/python bench/prove.py            # the full run (`make prove`, under 30 min on 2 cores)
    .venv/bin/python bench/prove.py --quick    # CI-sized (tests/test_prove.py runs part of it)
    .venv/bin/python bench/prove.py --only crash_fanout,faults_receivers

Everything listens and connects on 127.0.0.1 only; every loop is bounded in count and time.
Exit status 1 when a target is missed or a scenario could not run to its end.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.multinode

from _common import load_line, machine_line
from proving.harness import Report

SCENARIOS = (
    "crash_fanout",
    "crash_inbox",
    "faults_receivers",
    "faults_postgres",
    "faults_disk",
    "load",
    "soak",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="CI-sized counts and durations")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios to run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(args.only) - set(SCENARIOS))
    if unknown:
        parser.error(
            f"--only: unknown scenario {', '.join(unknown)}; expected some of {', '.join(SCENARIOS)}"
        )
    return args


def run_scenario(name: str, quick: bool, tmp: Path, report: Report) -> None:
    module = importlib.import_module(f"proving.{name}")
    size = module.QUICK if quick else module.FULL
    directory = tmp / name
    directory.mkdir()
    try:
        module.run(size, directory, report)
    except Exception as exc:  # one scenario's failure must not hide the others' figures
        traceback.print_exc()
        report.scenario = name
        report.fail(f"{type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"proving ground ({'quick' if args.quick else 'full'}): {', '.join(args.only)}")
    print(machine_line())
    print(f"at the start: {load_line()} (the machine is shared: other work skews the timings)")
    tmp = Path(tempfile.mkdtemp(prefix="talentfed-prove-"))
    report = Report()
    began = time.monotonic()
    try:
        for name in args.only:
            run_scenario(name, args.quick, tmp, report)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"\n== summary: {report.summary()} in {(time.monotonic() - began) / 60:.1f} min; "
        f"at the end: {load_line()}"
    )
    for figure in report.failed:
        print(f"  FAIL {figure.scenario}: {figure.name}: {figure.shown} (target: {figure.target})")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
