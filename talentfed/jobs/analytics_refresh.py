"""The analytics refresh job: a full run on the configured schedule (or when none is stored),
and influence brought up to date sooner, after enough new edges.

Its results go to the database (`domain/analytics_runs.py`), where the web layer reads them
(`domain/analytics_snapshot.py`), whichever process this job runs in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.domain.analytics_runs import LiveInfluence, latest_run, new_edges_since, store_run
from talentfed.domain.embeddings import embed_batch, embedder_for, forget, plan, store
from talentfed.domain.observed_graph import load_observed
from talentfed.jobs.pause import pause
from talentfed.observability import metrics
from talentfed.storage.models import AnalyticsRun, utcnow

logger = logging.getLogger("talentfed.analytics")


class AnalyticsRefresh:
    """Recompute on a schedule, or sooner when enough new edges have been observed."""

    name = "analytics-refresh"

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], config: Config, check_every: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.check_every = check_every
        self.live: LiveInfluence | None = None  # the last run's follow graph, with follows since
        self.embedder = embedder_for(config)  # None without the `semantic` extra

    async def embed(self) -> None:
        """Embed the profiles and posts that are new or changed since the last check: each batch
        is embedded with no transaction open and stored in a short one of its own, so a long
        first run never holds the database (SQLite has one writer)."""
        if self.embedder is None:
            return
        async with self.sessions() as session:
            todo = await plan(session, self.config, self.embedder.name)
        async with self.sessions() as session, session.begin():
            await forget(session, todo.gone)
        for batch in todo.batches(self.config.matching.embed_batch):
            vectors = await embed_batch(self.embedder, batch)
            async with self.sessions() as session, session.begin():
                await store(session, batch, vectors, self.embedder.name)
        if todo.stale or todo.gone:
            logger.info("embedded %d texts, forgot %d", len(todo.stale), len(todo.gone))

    async def run_once(self) -> AnalyticsRun:
        """A full run, stored; its follow graph is kept to apply new follows to."""
        await self.embed()
        started = time.perf_counter()
        async with self.sessions() as session, session.begin():
            observed = await load_observed(session, self.config)
            run = await store_run(session, observed, started, lambda _: None)
        self.live = LiveInfluence.from_snapshot(observed)
        metrics.observe_analytics_run("full", time.perf_counter() - started)
        logger.info("analytics recomputed: %d actors, %d edges in %.2f s", run.actors, run.edges, run.seconds)
        return run

    async def catch_up(self) -> int:
        """Apply the follows accepted since the last run to influence, without a full run."""
        assert self.live is not None
        started = time.perf_counter()
        async with self.sessions() as session, session.begin():
            changed = await self.live.catch_up(session)
        metrics.observe_analytics_run("catch_up", time.perf_counter() - started)
        logger.info("influence brought up to date: %d actors changed", changed)
        return changed

    async def due(self) -> str | None:
        """ "full" on the schedule (or with no run yet), "new edges" after enough of them, else None."""
        async with self.sessions() as session:
            last = await latest_run(session)
            if last is None or self.live is None:
                return "full"
            interval = timedelta(minutes=self.config.analytics.interval_minutes)
            if utcnow() - last.computed_at >= interval:
                return "full"
            fresh = await new_edges_since(session, max(last.computed_at, self.live.since))
            return "new edges" if fresh >= self.config.analytics.recompute_after_edges else None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                reason = await self.due()
                if reason == "full":
                    await self.run_once()
                elif reason == "new edges":
                    await self.catch_up()
            except Exception:  # a failed run is logged and tried again at the next check
                logger.exception("analytics run failed")
            await pause(stop, self.check_every)
