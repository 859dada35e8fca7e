"""Crash while signed activities arrive: senders POST signed Creates to the shared inbox (another
real node serves their keys), the receiving node is SIGKILLed at random points and restarted.
Senders behave as servers do: an activity whose POST failed (connection refused or reset, 503)
is POSTed again later. Afterwards: every activity answered 202 is stored, none twice."""

from __future__ import annotations

import asyncio
import collections
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import ServedNode

from proving.harness import Report, seconds, sqlite_rows
from proving.senders import SignedSenders
from talentfed.federation.connection_pool import pooled_transport

SEED = 9
RETRY_PAUSE = 0.5  # seconds a sender waits before POSTing a failed activity again
POLL = 0.05  # seconds between looks at the senders' progress
MAX_TRIES = 40  # per activity: a sender that never gets through gives up (counted)


@dataclass(frozen=True)
class Size:
    activities: int
    senders: int  # concurrent senders, each with its own key
    kills: int
    budget: float


FULL = Size(activities=5000, senders=50, kills=5, budget=420)
QUICK = Size(activities=200, senders=8, kills=1, budget=180)


@dataclass
class Outcomes:
    accepted: set[str] = field(default_factory=set)  # ids answered 202
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    gave_up: int = 0
    restarts: list[float] = field(default_factory=list)


def run(size: Size, tmp: Path, report: Report) -> None:
    report.start(
        "crash_inbox",
        f"{size.activities} signed activities from {size.senders} senders, the receiving node "
        f"SIGKILLed {size.kills} times",
    )
    receiver = ServedNode("receiver", tmp / "receiver")
    sender = ServedNode("sender", tmp / "sender")
    try:
        receiver.migrate()
        sender.migrate()
        senders = SignedSenders.made(sender, receiver, size.senders)
        sender.start(timeout=90)
        receiver.start(timeout=90)
        started = time.monotonic()
        outcomes = asyncio.run(_send_and_kill(receiver, senders, size))
        elapsed = time.monotonic() - started
        receiver.stop()
        _judge(report, receiver, senders.prefix, size, outcomes, elapsed)
    finally:
        receiver.kill()
        sender.kill()


async def _send_and_kill(receiver: ServedNode, senders: SignedSenders, size: Size) -> Outcomes:
    waiting = collections.deque(range(size.activities))
    outcomes = Outcomes()
    deadline = time.monotonic() + size.budget
    limits = httpx.Limits(max_connections=size.senders)
    async with httpx.AsyncClient(transport=pooled_transport(limits=limits), timeout=30) as client:

        async def sender() -> None:
            while waiting and time.monotonic() < deadline:
                index = waiting.popleft()
                for _ in range(MAX_TRIES):
                    status, _ = await senders.post(client, index)
                    outcomes.statuses[status] += 1
                    if status == "202":
                        outcomes.accepted.add(senders.activity_id(index))
                        break
                    await asyncio.sleep(RETRY_PAUSE)
                else:
                    outcomes.gave_up += 1

        tasks = [asyncio.create_task(sender()) for _ in range(size.senders)]
        await _killer(receiver, outcomes, size, deadline)
        await asyncio.gather(*tasks)
    return outcomes


async def _killer(receiver: ServedNode, outcomes: Outcomes, size: Size, deadline: float) -> None:
    """SIGKILL the receiver when a random share of the activities has been accepted; restart."""
    rng = random.Random(SEED)
    for point in sorted(rng.uniform(0.05, 0.9) * size.activities for _ in range(size.kills)):
        for _ in range(int(max(deadline - time.monotonic(), 0) / POLL)):  # bounded: to the deadline
            if len(outcomes.accepted) >= point:
                break
            await asyncio.sleep(POLL)
        await asyncio.to_thread(receiver.kill)
        began = time.monotonic()
        await asyncio.to_thread(receiver.start, timeout=90)
        outcomes.restarts.append(time.monotonic() - began)


def _judge(
    report: Report, receiver: ServedNode, prefix: str, size: Size, outcomes: Outcomes, elapsed: float
) -> None:
    stored = collections.Counter(
        uri
        for (uri,) in sqlite_rows(
            receiver.db_path, "SELECT uri FROM activities WHERE local = 0 AND uri LIKE ? || '%'", prefix
        )
    )
    unexpected = {
        k: n for k, n in outcomes.statuses.items() if k not in ("202", "503") and not k[0].isupper()
    }
    report.info(
        "answers and transport errors seen by the senders",
        ", ".join(f"{k} x{n}" for k, n in sorted(outcomes.statuses.items())),
    )
    report.info(
        "time",
        f"{seconds(elapsed)} with {len(outcomes.restarts)} kills; restarts took "
        + ", ".join(f"{r:.1f}" for r in outcomes.restarts)
        + " s",
    )
    kills = len(outcomes.restarts)
    report.check("kills while activities were arriving", str(kills), str(size.kills), kills == size.kills)
    report.check(
        "activities accepted (202)",
        f"{len(outcomes.accepted)}/{size.activities}; gave up {outcomes.gave_up}",
        "all",
        len(outcomes.accepted) == size.activities,
    )
    report.check(
        "accepted but not stored",
        str(len(outcomes.accepted - set(stored))),
        "0",
        outcomes.accepted <= set(stored),
    )
    twice = sum(1 for n in stored.values() if n > 1)
    report.check("stored more than once", str(twice), "0", twice == 0)
    report.check(
        "answers other than 202 or 503 (e.g. 500)", str(unexpected or "none"), "none", not unexpected
    )
