"""What pages and the JSON API read of the analytics: the observed graph as of the latest run,
and the influence stored since.

The results are computed by the analytics refresh job (`jobs/analytics_refresh.py`), which may
run in another process (`talentfed worker`). So this cache asks the database, not the job: it
loads a new snapshot when the database holds a newer run than the one it has, and reads the
influence that the job brought up to date after the snapshot was taken. It also loads a new
one when the domain policies changed (a domain suspended or silenced since): the snapshot
leaves such domains' actors out (`observed_graph`), and must not wait for the next run to.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.domain import recommendations
from talentfed.domain.analytics_runs import influence_stored_since, latest_run
from talentfed.domain.observed_graph import Observed, load_observed
from talentfed.federation.blocks import DomainPolicies, domain_policies


class AnalyticsSnapshot:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: Config) -> None:
        self.sessions = sessions
        self.config = config
        self._observed: Observed | None = None
        self._run_at: datetime | None = None  # the latest run when the snapshot was loaded
        self._policies: DomainPolicies | None = None  # the domain policies it was loaded under
        self._lock = asyncio.Lock()  # one load at a time: a snapshot is large

    async def observed(self) -> Observed:
        """The snapshot, loaded again when a newer run has been stored (by any process) or the
        domain policies changed."""
        run_at, policies = await self._current()
        if self._stale(run_at, policies):
            async with self._lock:
                if self._stale(run_at, policies):  # not loaded while we waited
                    async with self.sessions() as session:
                        observed = await load_observed(session, self.config)
                    await recommendations.prepare(observed)
                    self._observed = observed
                    self._run_at, self._policies = run_at, policies
        assert self._observed is not None
        return self._observed

    def _stale(self, run_at: datetime | None, policies: DomainPolicies) -> bool:
        return self._observed is None or run_at != self._run_at or policies != self._policies

    async def _current(self) -> tuple[datetime | None, DomainPolicies]:
        async with self.sessions() as session:
            run = await latest_run(session)
            policies = await domain_policies(session, self.config)
        return (run.computed_at if run is not None else None), policies

    async def influence_since(self, observed: Observed) -> dict[int, float]:
        """Actor row → influence, for the scores stored after the snapshot was taken."""
        async with self.sessions() as session:
            stored = await influence_stored_since(session, observed.computed_at)
        return {
            observed.row_of[actor_id]: value
            for actor_id, value in stored.items()
            if actor_id in observed.row_of
        }
