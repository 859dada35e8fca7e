"""Discovery endpoints (JSON): similar people, matching projects, candidates, influence ranking.

They answer from the latest snapshot of the observed graph, which the background job
(`AnalyticsJob`) refreshes on the configured schedule and after enough new edges.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import discovery
from talentfed.domain.live_influence import LiveInfluence
from talentfed.storage.models import utcnow
from talentfed.web.api import PREFIX, ApiError, api

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

logger = logging.getLogger("talentfed.analytics")
PAGE_SIZE = 10
MAX_PAGE = 20


class AnalyticsJob:
    """Recompute on a schedule, or sooner when enough new edges have been observed."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], config: Config, check_every: float = 60.0
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.check_every = check_every
        self.snapshot: discovery.Observed | None = None
        self.live: LiveInfluence | None = None  # the snapshot's follow graph, with follows since
        self._lock = asyncio.Lock()

    async def observed(self) -> discovery.Observed:
        if self.snapshot is None:
            async with self._lock, self.sessions() as session:
                if self.snapshot is None:
                    self.snapshot = await discovery.load_observed(session, self.config)
        return self.snapshot

    async def run_once(self) -> None:
        async with self._lock:
            async with self.sessions() as session, session.begin():
                run = await discovery.run_analytics(session, self.config)
            async with self.sessions() as session:
                self.snapshot = await discovery.load_observed(session, self.config)
            self.live = LiveInfluence.from_snapshot(self.snapshot)
        logger.info("analytics recomputed: %d actors, %d edges in %.2f s", run.actors, run.edges, run.seconds)

    async def catch_up(self) -> int:
        """Apply the follows accepted since the snapshot to influence, without a full run."""
        assert self.live is not None
        async with self._lock, self.sessions() as session, session.begin():
            changed = await self.live.catch_up(session)
        logger.info("influence brought up to date: %d actors changed", changed)
        return changed

    def current_influence(self) -> np.ndarray | None:
        return self.live.graph.influence if self.live is not None else None

    async def due(self) -> str | None:
        """ "full" on the schedule (or with no run yet), "new edges" after enough of them, else None."""
        async with self.sessions() as session:
            last = await discovery.latest_run(session)
            if last is None or self.live is None:
                return "full"
            interval = timedelta(minutes=self.config.analytics.interval_minutes)
            if utcnow() - last.computed_at >= interval:
                return "full"
            fresh = await discovery.new_edges_since(session, max(last.computed_at, self.live.since))
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.check_every)


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(422, f"expected a page from 1 to {MAX_PAGE}", "page")
    return int(raw)


def _member_row(observed: discovery.Observed, username: str | None) -> int:
    if not username:
        raise ApiError(422, "a member's username is required", "member")
    for row, actor in enumerate(observed.actors):
        if actor.local and actor.person and actor.handle.startswith(f"@{username}@"):
            return row
    raise ApiError(404, f"no member called {username!r}", "member")


def _answer(observed: discovery.Observed, page: int, items: Sequence[DataclassInstance]) -> Response:
    return JSONResponse(
        {
            "computed_at": observed.computed_at.isoformat(),
            "page": page,
            "items": [dataclasses.asdict(item) for item in items[:PAGE_SIZE]],
            "next": page + 1 if len(items) > PAGE_SIZE and page < MAX_PAGE else None,
        }
    )


@api
async def people(request: Request) -> Response:
    page = _page(request)
    observed = await request.app.state.analytics.observed()
    row = _member_row(observed, request.query_params.get("member"))
    others_only = request.query_params.get("all_institutions", "false").lower() not in ("true", "1", "yes")
    found = discovery.similar_people(
        observed, row, PAGE_SIZE + 1, other_institutions=others_only, offset=(page - 1) * PAGE_SIZE
    )
    return _answer(observed, page, found)


@api
async def projects(request: Request) -> Response:
    page = _page(request)
    observed = await request.app.state.analytics.observed()
    members = request.query_params.getlist("member")
    if not members:
        raise ApiError(422, "at least one member is required (repeat member= for a team)", "member")
    rows = [_member_row(observed, name) for name in members]
    found = discovery.matching_projects(observed, rows, PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _answer(observed, page, found)


@api
async def candidates(request: Request) -> Response:
    page = _page(request)
    observed = await request.app.state.analytics.observed()
    url = request.query_params.get("project", "")
    index = next((i for i, p in enumerate(observed.projects) if p.uri == url), None)
    if index is None:
        raise ApiError(404, "no project call known at that URL", "project")
    found = discovery.candidates(observed, index, PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _answer(observed, page, found)


@api
async def influence(request: Request) -> Response:
    page = _page(request)
    measure = request.query_params.get("measure", "influence")
    if measure not in ("influence", "pagerank"):
        raise ApiError(422, "expected influence or pagerank", "measure")
    observed = await request.app.state.analytics.observed()
    ranked = discovery.ranking(
        observed,
        skill=request.query_params.get("skill") or None,
        measure=measure,
        current_influence=request.app.state.analytics.current_influence(),
    )
    start = (page - 1) * PAGE_SIZE
    return _answer(observed, page, ranked[start : start + PAGE_SIZE + 1])


routes = [
    Route(f"{PREFIX}/discover/people", people),
    Route(f"{PREFIX}/discover/projects", projects),
    Route(f"{PREFIX}/discover/candidates", candidates),
    Route(f"{PREFIX}/influence", influence),
]
