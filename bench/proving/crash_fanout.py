"""Crash during a fan-out: one post to many followers on many loopback hosts, the node
(`talentfed serve`, which runs the delivery workers on SQLite) SIGKILLed at random points and
restarted each time. Afterwards: every inbox has the activity, no job is stuck, and the POSTs
repeated because of the kills stay within what the queue allows.

Delivery is at-least-once: a POST that reached its inbox just before the kill, whose success was
not yet written, is sent again after the restart (when its lease expires). So two figures:
POSTs per inbox (as the receivers counted them) and distinct activities per inbox (what a
receiver that keys on the activity's id stores). The repeats are bounded: at each kill, at most
the POSTs in flight and the successes not yet recorded, `delivery_workers` x (concurrency +
FLUSH_BATCH).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import ServedNode, run_cli
from bench_fanout import HostPlan

from proving.harness import Report, queue_to_followers, seconds, sqlite_rows, wait_until
from tests.multinode.inbox_counter import CountingReceivers

LEASE = 12.0  # seconds: a killed node's claimed jobs go back to the queue this soon
REQUEST_TIMEOUT = 5.0
DELIVERY_WORKERS = 2
SEED = 16


@dataclass(frozen=True)
class Size:
    hosts: int
    followers_per_host: int
    kills: int
    max_pause: float  # seconds: each kill comes at a random moment up to this long after a restart
    answer_delay: float  # seconds each receiver takes to answer a POST it has counted
    budget: float  # seconds the whole scenario may take before it stops itself


FULL = Size(hosts=1000, followers_per_host=10, kills=20, max_pause=3.0, answer_delay=0.0, budget=900)
# 40 deliveries would be over before the first kill: answered slowly, they are still in flight.
QUICK = Size(hosts=20, followers_per_host=3, kills=2, max_pause=1.0, answer_delay=3.0, budget=300)


def run(size: Size, tmp: Path, report: Report) -> None:
    plan = HostPlan.make(size.hosts, size.followers_per_host, dead_fraction=0.0)
    report.start(
        "crash_fanout",
        f"one Create to {size.hosts * size.followers_per_host} followers on {size.hosts} hosts, "
        f"the node SIGKILLed {size.kills} times",
    )
    receivers = CountingReceivers(size.hosts, size.answer_delay)
    node = ServedNode(
        "fanout",
        tmp / "fanout",
        **{
            "federation.delivery_lease_seconds": LEASE,
            "federation.request_timeout": REQUEST_TIMEOUT,
            "federation.retry_initial_delay": 1.0,
            "federation.delivery_workers": DELIVERY_WORKERS,
        },
    )
    try:
        node.migrate()
        run_cli("user", "add", "author", "--display-name", "Author", cwd=node.directory)
        activity_uri, jobs = asyncio.run(queue_to_followers(node, plan, receivers.ports))
        started = time.monotonic()
        node.start(timeout=90)
        restarts = _kill_at_random_points(node, size, started)
        finished = wait_until(
            lambda: _unfinished(node) == 0, max(30.0, size.budget - (time.monotonic() - started))
        )
        elapsed = time.monotonic() - started
        node.stop()
        _judge(report, node, size, receivers.counts(), activity_uri, jobs, restarts, finished, elapsed)
    finally:
        node.kill()
        receivers.close()


def _kill_at_random_points(node: ServedNode, size: Size, started: float) -> list[float]:
    """SIGKILL at a random moment (up to `max_pause` after the node answered), restart at once,
    while jobs are left. Returns the seconds each restart took (until /healthz answered)."""
    rng = random.Random(SEED)
    restarts: list[float] = []
    while len(restarts) < size.kills and time.monotonic() - started < size.budget / 2:
        time.sleep(rng.uniform(0.0, size.max_pause))
        if _unfinished(node) == 0:
            break  # the fan-out is over: a kill now would prove nothing
        node.kill()
        began = time.monotonic()
        node.start(timeout=90)
        restarts.append(time.monotonic() - began)
    return restarts


def _unfinished(node: ServedNode) -> int:
    [(left,)] = sqlite_rows(
        node.db_path, "SELECT count(*) FROM delivery_jobs WHERE state IN ('queued', 'running')"
    )
    return int(left)


def _judge(
    report: Report,
    node: ServedNode,
    size: Size,
    received: Counter[tuple[str, str]],
    activity_uri: str,
    jobs: int,
    restarts: list[float],
    finished: bool,
    elapsed: float,
) -> None:
    from talentfed.federation.delivery import FLUSH_BATCH, DeliveryPolicy

    inboxes = {
        url.removeprefix("http://")
        for (url,) in sqlite_rows(node.db_path, "SELECT inbox_url FROM delivery_jobs")
    }
    posts = Counter({inbox: n for (inbox, activity), n in received.items() if activity == activity_uri})
    activities_per_inbox = Counter(inbox for inbox, _ in received)
    states = dict(sqlite_rows(node.db_path, "SELECT state, count(*) FROM delivery_jobs GROUP BY state"))
    kills = len(restarts)
    bound = kills * DELIVERY_WORKERS * (DeliveryPolicy().concurrency + FLUSH_BATCH)
    repeated = sum(n - 1 for n in posts.values())
    once, more = sum(1 for n in posts.values() if n == 1), sum(1 for n in posts.values() if n > 1)
    report.info("delivery jobs", f"{jobs} for {len(inboxes)} inboxes; job states at the end {states}")
    report.info(
        "time",
        f"{seconds(elapsed)} with {kills} kills; restart to /healthz median "
        f"{seconds(sorted(restarts)[len(restarts) // 2]) if restarts else '-'}",
    )
    report.check("kills while jobs were left", str(kills), str(size.kills), kills == size.kills)
    report.check(
        "inboxes reached", f"{len(set(posts) & inboxes)}/{len(inboxes)}", "all", set(posts) >= inboxes
    )
    report.check(
        "distinct activities per inbox (what an id-keyed receiver stores)",
        f"exactly 1 in {sum(1 for i in inboxes if activities_per_inbox[i] == 1)}/{len(inboxes)} inboxes; "
        f"stray {len(set(activities_per_inbox) - inboxes)}",
        "1 in every inbox, nothing stray",
        all(activities_per_inbox[i] == 1 for i in inboxes) and set(activities_per_inbox) <= inboxes,
    )
    report.check(
        "POSTs per inbox",
        f"once {once}, more than once {more} "
        f"(max {max(posts.values(), default=0)}); repeated POSTs {repeated}",
        f"repeats <= kills x workers x (in flight + unrecorded) = {bound}; max per inbox <= 1 + kills",
        repeated <= bound and max(posts.values(), default=0) <= 1 + kills,
    )
    report.check("jobs stuck (queued or running) at the end", str(_unfinished(node)), "0", finished)
    report.check("jobs given up (dead)", str(states.get("dead", 0)), "0", not states.get("dead"))
