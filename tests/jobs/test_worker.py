"""`talentfed worker` runs the node's jobs by name, the analytics refresh among them."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.cli.node import worker_jobs
from talentfed.config import Config
from talentfed.federation.runtime import federation
from talentfed.jobs.crawl import crawl_now
from talentfed.jobs.runner import run_jobs
from talentfed.observability import metrics
from talentfed.storage.db import session_factory
from talentfed.storage.models import ActorScore, AnalyticsRun, DeliveryJob
from tests.domain.test_analytics_queries import build_world
from tests.federation.test_delivery import eventually
from tests.support import run_cli, write_config


async def _count(engine: AsyncEngine, model: type) -> int:
    async with session_factory(engine)() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_worker_jobs_store_analytics_until_stopped(
    config: Config, engine: AsyncEngine, session: AsyncSession
) -> None:
    world = await build_world(session, config)
    await session.commit()
    sessions = session_factory(engine)
    async with federation(config, sessions) as runtime:
        jobs = worker_jobs(config, sessions, runtime, count=2)
        assert [job.name for job in jobs] == [
            "delivery",
            "delivery",
            "actor-refresh",
            "analytics-refresh",
            "domain-purge",
        ]
        stop = asyncio.Event()
        running = asyncio.create_task(run_jobs(jobs, stop))
        await eventually(lambda: _count(engine, AnalyticsRun), timeout=30)
        stop.set()
        await asyncio.wait_for(running, 30)
    async with sessions() as reader:
        kim = await reader.get(ActorScore, world["kim"].id)
    assert kim is not None and kim.influence == pytest.approx(1.0)


async def test_a_scheduled_crawl_is_a_job_of_its_own(config: Config, engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    crawling = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, crawl_interval_minutes=30)
    )
    async with federation(crawling, sessions) as runtime:
        assert "crawl" in [job.name for job in worker_jobs(crawling, sessions, runtime, count=1)]
        assert "crawl" not in [job.name for job in worker_jobs(config, sessions, runtime, count=1)]


async def test_a_worker_runs_the_jobs_of_its_queues_only(config: Config, engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    crawling = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, crawl_interval_minutes=30)
    )
    async with federation(crawling, sessions) as runtime:

        def names(*queues: str) -> list[str]:
            return [job.name for job in worker_jobs(crawling, sessions, runtime, 2, frozenset(queues))]

        assert names("delivery") == ["delivery", "delivery", "actor-refresh"]
        assert names("analytics") == ["analytics-refresh"]
        assert names("crawl") == ["crawl"]
        assert names("crawl", "analytics") == ["analytics-refresh", "crawl"]


async def test_talentfed_worker_computes_analytics_and_stops_on_sigterm(
    tmp_path: Path, db_url: str, engine: AsyncEngine
) -> None:
    write_config(tmp_path, db_url)
    # Without the neighbourhood, `demo` computes no analytics itself: the run counted is the worker's.
    assert run_cli("demo", "--without-neighbourhood", cwd=tmp_path).returncode == 0
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "talentfed", "worker", cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    assert worker.stderr is not None
    seen = []
    try:
        async with asyncio.timeout(60):
            while not any(b"analytics recomputed" in line for line in seen):
                line = await worker.stderr.readline()
                assert line, b"".join(seen).decode()
                seen.append(line)
    finally:
        worker.send_signal(signal.SIGTERM)
        (rest,) = (await worker.communicate())[1:]
    log = b"".join(seen).decode() + rest.decode()
    assert worker.returncode == 0, log
    assert "running jobs: delivery, actor-refresh, analytics-refresh, domain-purge" in log
    assert await _count(engine, AnalyticsRun) == 1 and await _count(engine, ActorScore) >= 4


async def test_sigterm_lets_a_worker_drain_and_release_what_it_could_not_finish(
    tmp_path: Path, db_url: str, config: Config, engine: AsyncEngine
) -> None:
    """A real `talentfed worker --queues delivery`, stopped while a POST hangs: it exits 0 within
    its drain deadline (1 s here), and the job is queued again, free for another worker."""
    from talentfed.domain.members import NewMember, add_member
    from tests.federation.remote_server import Received, RemoteServer
    from tests.federation.test_delivery import queue_note, remote_actor
    from tests.support.waiting import eventually

    write_config(tmp_path, db_url, **{"worker.drain_seconds": 1.0})
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        bob = await add_member(session, config, NewMember("bob", "Bob"))
    hanging = asyncio.Event()

    async def hang(received: Received) -> int:
        hanging.set()
        await asyncio.sleep(60)
        return 202

    async with RemoteServer() as remote:
        remote.answer = hang
        await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "talentfed", "worker", "--queues", "delivery",
            cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await eventually(hanging.is_set, timeout=60, what="the worker's POST")
        finally:
            worker.send_signal(signal.SIGTERM)
            started = asyncio.get_running_loop().time()
            (stderr,) = (await worker.communicate())[1:]
        took = asyncio.get_running_loop().time() - started
    log = stderr.decode()
    assert worker.returncode == 0 and "Traceback" not in log, log
    assert "released 1 unfinished jobs" in log and took < 30, (took, log)
    async with sessions() as session:
        job = await session.scalar(select(DeliveryJob))
    assert job is not None and (job.state, job.claimed_by, job.lease_until) == ("queued", None, None)


async def test_a_completed_crawl_is_timed(config: Config, engine: AsyncEngine) -> None:
    """talentfed_crawl_duration_seconds: a crawl that ran to its end (here: nothing to crawl yet)."""

    def crawls() -> float:
        return metrics.REGISTRY.get_sample_value("talentfed_crawl_duration_seconds_count") or 0.0

    before = crawls()
    async with federation(config, session_factory(engine)) as runtime:
        await crawl_now(runtime, asyncio.Event())
    assert crawls() == before + 1
