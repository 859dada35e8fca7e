"""PostgreSQL stopped and restarted under load: readers keep asking for an actor, WebFinger and a
profile page while the node's own throw-away cluster is stopped (`pg_ctl stop -m fast`) and
started again. While it is down the node answers 503 with Retry-After (never a 500, never a
hang); once it is back the node serves again by itself, without a restart."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import ServedNode, run_cli

from proving.harness import Report, seconds
from proving.throwaway_postgres import ThrowawayCluster, Unavailable
from talentfed.federation.connection_pool import pooled_transport
from talentfed.web.database_unavailable import DATABASE_RETRY_AFTER


@dataclass(frozen=True)
class Size:
    readers: int
    up: float  # seconds of load before the stop
    down: float  # seconds the server stays stopped
    after: float  # seconds of load after it is started again


FULL = Size(readers=20, up=10, down=20, after=20)
QUICK = Size(readers=5, up=4, down=8, after=12)


@dataclass
class Answers:
    """(seconds since the start, status or error name, Retry-After) of every request."""

    seen: list[tuple[float, str, str | None]] = field(default_factory=list)

    def between(self, start: float, end: float) -> list[tuple[float, str, str | None]]:
        return [answer for answer in self.seen if start <= answer[0] < end]


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start(
        "faults_postgres", f"{size.readers} readers while the node's PostgreSQL is stopped {size.down:g} s"
    )
    try:
        cluster = ThrowawayCluster()
    except Unavailable as exc:
        report.skip(str(exc))
        return
    node = None
    try:
        cluster.start()
        node = ServedNode("pg", tmp / "node", db_url=cluster.url)
        node.migrate()
        run_cli("user", "add", "ada", "--display-name", "Ada", cwd=node.directory)
        node.start(timeout=90)
        pid = node.pid
        marks, answers = asyncio.run(_load_through_a_restart(node, cluster, size))
        _judge(report, node, pid, marks, answers)
    finally:
        if node is not None:
            node.kill()
        cluster.remove()


async def _load_through_a_restart(
    node: ServedNode, cluster: ThrowawayCluster, size: Size
) -> tuple[dict[str, float], Answers]:
    answers, marks = Answers(), {}
    began = time.monotonic()
    stop = asyncio.Event()
    domain = node.base_url.removeprefix("http://")
    paths = [
        ("/users/ada", {"Accept": "application/activity+json"}),
        (f"/.well-known/webfinger?resource=acct:ada@{domain}", {}),
        ("/@ada", {"Accept": "text/html"}),
    ]
    transport = pooled_transport(limits=httpx.Limits())
    async with httpx.AsyncClient(transport=transport, base_url=node.base_url, timeout=30) as client:

        async def reader(n: int) -> None:
            while not stop.is_set():
                path, headers = paths[n % len(paths)]
                n += 1
                try:
                    response = await client.get(path, headers=headers)
                    answers.seen.append(
                        (
                            time.monotonic() - began,
                            str(response.status_code),
                            response.headers.get("retry-after"),
                        )
                    )
                except httpx.TransportError as exc:
                    answers.seen.append((time.monotonic() - began, type(exc).__name__, None))
                await asyncio.sleep(0.05)

        readers = [asyncio.create_task(reader(n)) for n in range(size.readers)]
        await asyncio.sleep(size.up)
        marks["stopping"] = time.monotonic() - began
        await asyncio.to_thread(cluster.stop)
        marks["stopped"] = time.monotonic() - began
        await asyncio.sleep(size.down)
        marks["starting"] = time.monotonic() - began
        await asyncio.to_thread(cluster.start)
        marks["started"] = time.monotonic() - began
        await asyncio.sleep(size.after)
        stop.set()
        await asyncio.gather(*readers)
    return marks, answers


def _judge(
    report: Report, node: ServedNode, pid: int | None, marks: dict[str, float], answers: Answers
) -> None:
    before = Counter(status for _, status, _ in answers.between(0, marks["stopping"]))
    # From the moment the stop is asked for to the moment the server is up again: some requests
    # are still served as it stops, or already served as it starts; all others must be 503s.
    outage = answers.between(marks["stopping"], marks["started"])
    statuses = Counter(status for _, status, _ in outage)
    without_retry_after = sum(1 for _, status, retry in outage if status == "503" and retry is None)
    while_down = Counter(status for _, status, _ in answers.between(marks["stopped"], marks["starting"]))
    after = answers.between(marks["started"], float("inf"))
    first_ok = next((at for at, status, _ in after if status == "200"), None)
    recovery = first_ok - marks["started"] if first_ok is not None else float("inf")
    settled = Counter(status for at, status, _ in after if first_ok is not None and at >= first_ok + 1)
    report.info("answers before the stop", _counts(before))
    report.check(
        "answers from the stop to the restart",
        f"{_counts(statuses)}; 503 without Retry-After {without_retry_after}; "
        f"while fully down {_counts(while_down)}",
        "only 503 with Retry-After (200 while it stops or starts); no 500, no dropped connection",
        set(statuses) <= {"200", "503"} and without_retry_after == 0 and set(while_down) == {"503"},
    )
    report.check(
        "back to 200 after PostgreSQL started",
        seconds(recovery),
        f"<= Retry-After ({DATABASE_RETRY_AFTER} s), without restarting the node",
        recovery <= DATABASE_RETRY_AFTER
        and node.pid == pid
        and node.process is not None
        and node.process.poll() is None,
    )
    report.check(
        "answers from 1 s after the first 200 on", _counts(settled), "all 200", set(settled) == {"200"}
    )


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{status} x{n}" for status, n in sorted(counts.items())) or "none"
