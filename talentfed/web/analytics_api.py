"""JSON endpoints over the analytics: similar people, matching projects, candidates, influence ranking.

They answer from the latest snapshot of the observed graph (`domain/analytics_snapshot.py`),
which follows the runs that the analytics refresh job stores (`jobs/analytics_refresh.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import recommendations
from talentfed.domain.observed_graph import Observed
from talentfed.domain.ranking import ranking
from talentfed.web.api import PREFIX, ApiError, api

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

PAGE_SIZE = 10
MAX_PAGE = 20


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ApiError(422, f"expected a page from 1 to {MAX_PAGE}", "page")
    return int(raw)


def _member_row(observed: Observed, username: str | None) -> int:
    if not username:
        raise ApiError(422, "a member's username is required", "member")
    for row, actor in enumerate(observed.actors):
        if actor.local and actor.person and actor.handle.startswith(f"@{username}@"):
            return row
    raise ApiError(404, f"no member called {username!r}", "member")


def _answer(observed: Observed, page: int, items: Sequence[DataclassInstance]) -> Response:
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
    found = recommendations.similar_people(
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
    found = recommendations.matching_projects(observed, rows, PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _answer(observed, page, found)


@api
async def candidates(request: Request) -> Response:
    page = _page(request)
    observed = await request.app.state.analytics.observed()
    url = request.query_params.get("project", "")
    index = next((i for i, p in enumerate(observed.projects) if p.uri == url), None)
    if index is None:
        raise ApiError(404, "no project call known at that URL", "project")
    found = recommendations.candidates(observed, index, PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    return _answer(observed, page, found)


@api
async def influence(request: Request) -> Response:
    page = _page(request)
    measure = request.query_params.get("measure", "influence")
    if measure not in ("influence", "pagerank"):
        raise ApiError(422, "expected influence or pagerank", "measure")
    analytics = request.app.state.analytics
    observed = await analytics.observed()
    ranked = ranking(
        observed,
        skill=request.query_params.get("skill") or None,
        measure=measure,
        influence_since=await analytics.influence_since(observed),
    )
    start = (page - 1) * PAGE_SIZE
    return _answer(observed, page, ranked[start : start + PAGE_SIZE + 1])


routes = [
    Route(f"{PREFIX}/discover/people", people),
    Route(f"{PREFIX}/discover/projects", projects),
    Route(f"{PREFIX}/discover/candidates", candidates),
    Route(f"{PREFIX}/influence", influence),
]
