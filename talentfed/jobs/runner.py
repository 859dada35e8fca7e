"""Which jobs a node runs, by name, and running them until asked to stop.

`talentfed serve` starts them inside the web process (`BackgroundJobs`), `talentfed worker`
runs them on their own (`run_jobs`); `node_jobs` builds the same list for both.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.federation.runtime import Federation
from talentfed.jobs.analytics_refresh import AnalyticsRefresh
from talentfed.jobs.crawl import crawl
from talentfed.jobs.delivery import deliver, refresh_actors
from talentfed.jobs.domain_purge import NAME as DOMAIN_PURGE
from talentfed.jobs.domain_purge import purge_suspended

DELIVERY = "delivery"
ACTOR_REFRESH = "actor-refresh"
ANALYTICS_REFRESH = AnalyticsRefresh.name
CRAWL = "crawl"
JOB_NAMES = (DELIVERY, ACTOR_REFRESH, ANALYTICS_REFRESH, DOMAIN_PURGE, CRAWL)
# What `talentfed worker --queues` names: delivery (with the refresh of followed actors),
# the crawl, the analytics refresh and the purge of suspended domains. Any mix may run in any
# number of workers (PostgreSQL).
QUEUES = ("delivery", "crawl", "analytics", "purge")


def parse_queues(text: str) -> frozenset[str]:
    """A comma-separated list of QUEUES; ValueError naming the first name that is none."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names:
        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r} (expected some of {', '.join(QUEUES)})")
    if not names:
        raise ValueError(f"expected some of {', '.join(QUEUES)}, comma-separated")
    return frozenset(names)


@dataclass(frozen=True)
class Job:
    """A named loop that returns once `stop` is set (a job with n workers is n of these)."""

    name: str
    run: Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def node_jobs(
    config: Config,
    sessions: async_sessionmaker[AsyncSession],
    federation: Federation,
    *,
    delivery_workers: int,
    queues: frozenset[str] = frozenset(QUEUES),
) -> list[Job]:
    """Of `queues`: delivery (with the refresh of followed actors) when there are workers,
    analytics, the purge of suspended domains, the crawl when it is scheduled."""
    if "delivery" not in queues:
        delivery_workers = 0
    jobs = [Job(DELIVERY, functools.partial(deliver, federation)) for _ in range(delivery_workers)]
    if delivery_workers:
        jobs.append(Job(ACTOR_REFRESH, functools.partial(refresh_actors, federation)))
    if "analytics" in queues:
        jobs.append(Job(ANALYTICS_REFRESH, AnalyticsRefresh(sessions, config).run))
    if "purge" in queues:
        jobs.append(Job(DOMAIN_PURGE, functools.partial(purge_suspended, sessions, config)))
    if "crawl" in queues and config.federation.crawl_interval_minutes:
        jobs.append(Job(CRAWL, functools.partial(crawl, federation)))
    return jobs


async def run_jobs(jobs: list[Job], stop: asyncio.Event) -> None:
    """Run every job until `stop` is set and each has returned."""
    await asyncio.gather(*(job.run(stop) for job in jobs))


@dataclass
class BackgroundJobs:
    """Jobs running as tasks beside other work (the web server), stopped together."""

    jobs: list[Job]
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        for number, job in enumerate(self.jobs, start=1):
            self._tasks.append(asyncio.create_task(job.run(self._stop), name=f"{job.name}-{number}"))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
