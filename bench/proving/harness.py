"""What the scenarios share: figures judged against targets, bounded waits, the node's
SQLite file read directly, the machine's state."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import ServedNode
from bench_fanout import HostPlan, queue_create, seed_followers

if TYPE_CHECKING:
    import psutil

PASS, FAIL, SKIP, INFO = "PASS", "FAIL", "SKIP", "info"


@dataclass
class Figure:
    scenario: str
    name: str
    shown: str
    target: str
    verdict: str


@dataclass
class Report:
    """Figures as they come, printed at once (a long run shows its progress), judged at the end."""

    figures: list[Figure] = field(default_factory=list)
    scenario: str = ""

    def start(self, scenario: str, what: str) -> None:
        self.scenario = scenario
        print(f"\n== {scenario}: {what}", flush=True)

    def check(self, name: str, shown: str, target: str, met: bool) -> None:
        self._add(Figure(self.scenario, name, shown, target, PASS if met else FAIL))

    def info(self, name: str, shown: str) -> None:
        self._add(Figure(self.scenario, name, shown, "", INFO))

    def skip(self, why: str) -> None:
        self._add(Figure(self.scenario, "scenario skipped", why, "", SKIP))

    def fail(self, why: str) -> None:
        """The scenario could not run to its end: a failed target of its own."""
        self._add(Figure(self.scenario, "scenario ran to its end", why, "it does", FAIL))

    def _add(self, figure: Figure) -> None:
        self.figures.append(figure)
        target = f"  (target: {figure.target})" if figure.target else ""
        print(f"  {figure.verdict:<4} {figure.name}: {figure.shown}{target}", flush=True)

    @property
    def failed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.verdict == FAIL]

    def summary(self) -> str:
        judged = [f for f in self.figures if f.verdict in (PASS, FAIL)]
        skipped = [f.scenario for f in self.figures if f.verdict == SKIP]
        line = f"{len(judged) - len(self.failed)}/{len(judged)} targets met"
        if skipped:
            line += f"; skipped: {', '.join(skipped)}"
        return line


async def queue_to_followers(node: ServedNode, plan: HostPlan, ports: list[int]) -> tuple[str, int]:
    """Followers of the node's `author` on the hosts of `plan` (at `ports`), and one Create of a
    Note queued to them all (as bench/bench_fanout.py does); (the activity's id, delivery jobs)."""
    from talentfed.config import load_config
    from talentfed.storage.db import create_engine, session_factory
    from talentfed.storage.models import Activity

    config = load_config(node.config_path)
    engine = create_engine(config.database.url)
    try:
        sessions = session_factory(engine)
        await seed_followers(sessions, plan, ports, with_dead=True)
        activity_id, jobs = await queue_create(sessions, config)
        async with sessions() as session:
            activity = await session.get(Activity, activity_id)
            assert activity is not None
            return activity.uri, jobs
    finally:
        await engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float, every: float = 0.25) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)


def sqlite_rows(db_path: Path, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of a read-only query on a node's SQLite file (it may be running: WAL lets us read)."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)) as db:
        return db.execute(statement, params).fetchall()


def node_processes(pid: int) -> list[psutil.Process]:
    """The node's process and those it started (uvicorn's web processes, when there are some)."""
    # Imported here: only the memory readings (load, soak) need psutil, which is the bench extra's;
    # the crash scenarios run in `make test`, which installs the test extra alone.
    import psutil

    try:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss_mib(pid: int) -> float:
    """Resident memory of the node's processes, in MiB."""
    import psutil

    total = 0
    for process in node_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


def open_fds(pid: int) -> int:
    """File descriptors the node's processes hold (sockets, database files, logs)."""
    import psutil

    total = 0
    for process in node_processes(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.num_fds()
    return total


def seconds(value: float) -> str:
    return f"{value:.1f} s"
