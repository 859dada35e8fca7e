"""What pages and the JSON API read of the analytics: the observed graph as of the latest run,
and the influence stored since.

The results are computed by the analytics refresh job (`jobs/analytics_refresh.py`), which may
run in another process (`talentfed worker`). So this cache asks the database, not the job: it
loads a new snapshot when the database holds a newer run than the one it has, and reads the
influence that the job brought up to date after the snapshot was taken.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.domain.analytics_runs import influence_stored_since, latest_run
from talentfed.domain.observed_graph import Observed, load_observed


class AnalyticsSnapshot:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: Config) -> None:
        self.sessions = sessions
        self.config = config
        self._observed: Observed | None = None
        self._run_at: datetime | None = None  # the latest run when the snapshot was loaded
        self._lock = asyncio.Lock()  # one load at a time: a snapshot is large

    async def observed(self) -> Observed:
        """The snapshot, loaded again when a newer run has been stored (by any process)."""
        run_at = await self._latest_run_at()
        if self._observed is None or run_at != self._run_at:
            async with self._lock:
                if self._observed is None or run_at != self._run_at:  # not loaded while we waited
                    async with self.sessions() as session:
                        self._observed = await load_observed(session, self.config)
                    self._run_at = run_at
        return self._observed

    async def _latest_run_at(self) -> datetime | None:
        async with self.sessions() as session:
            run = await latest_run(session)
        return run.computed_at if run is not None else None

    async def influence_since(self, observed: Observed) -> dict[int, float]:
        """Actor row → influence, for the scores stored after the snapshot was taken."""
        async with self.sessions() as session:
            stored = await influence_stored_since(session, observed.computed_at)
        return {
            observed.row_of[actor_id]: value
            for actor_id, value in stored.items()
            if actor_id in observed.row_of
        }
