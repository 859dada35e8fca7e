"""The search page, /discover: search everything this node has observed; recommendations and
influence beside the results.

The search runs on the database's full-text index (domain/search.py). Recommendations and the
influence ranking come from the analytics snapshot (domain/analytics_snapshot.py), which follows
the runs of the analytics refresh job; the page says when it was computed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from talentfed.domain.observed_graph import Observed
from talentfed.domain.ranking import Ranked, ranking
from talentfed.domain.recommendations import matching_projects, similar_people
from talentfed.domain.search import KINDS, SearchError, SearchQuery, search
from talentfed.text import normalize_skill
from talentfed.web.templating import Viewer, render, viewer

PAGE_SIZE = 20
RECOMMENDED = 5
RANKED = 10
FIELDS = ("q", "kind", "skill", "institution", "status", "deadline_after")


def _query(values: dict[str, str], offset: int) -> SearchQuery:
    deadline = None
    if values["deadline_after"]:
        try:
            deadline = date.fromisoformat(values["deadline_after"])
        except ValueError:
            raise SearchError("deadline_after", "expected a date such as 2027-03-31") from None
    return SearchQuery(
        text=values["q"],
        kind=values["kind"] or "all",
        skill=values["skill"] or None,
        institution=values["institution"] or None,
        status=values["status"] or None,
        deadline_after=deadline,
        limit=PAGE_SIZE,
        offset=offset,
    )


def link_for(request: Request, uri: str) -> str:
    """A link a browser can follow here: our own pages, or the observed copy of a remote post."""
    base = request.app.state.config.node.base_url
    return uri if uri.startswith(base + "/") else f"/observed?uri={quote(uri, safe='')}"


async def _recommendations(request: Request, me: Viewer) -> dict:
    observed = await request.app.state.analytics.observed()
    row = observed.row_of.get(me.actor.id)
    if row is None:
        return {"people": [], "projects": [], "computed_at": observed.computed_at}
    return {
        "people": similar_people(observed, row, RECOMMENDED, other_institutions=True),
        "projects": matching_projects(observed, [row], RECOMMENDED),
        "computed_at": observed.computed_at,
    }


async def _most_influential(request: Request, observed: Observed, skill: str | None) -> list[Ranked]:
    since = await request.app.state.analytics.influence_since(observed)
    return [r for r in ranking(observed, skill=skill, influence_since=since)[:RANKED] if r.influence > 0]


async def discover_page(request: Request) -> Response:
    values = {name: request.query_params.get(name, "").strip()[:300] for name in FIELDS}
    offset_text = request.query_params.get("offset", "0")
    offset = int(offset_text) if offset_text.isdigit() else 0
    errors: dict[str, str] = {}
    page = None
    me = await viewer(request)
    try:
        query = replace(_query(values, min(offset, 10_000)), reader_id=me.actor.id if me else None)
        async with request.app.state.sessions() as session:
            page = await search(session, request.app.state.config, query)
    except SearchError as exc:
        errors[{"text": "q"}.get(exc.field, exc.field)] = exc.message
    observed = await request.app.state.analytics.observed()
    skill = normalize_skill(values["skill"]) if values["skill"] else None
    context = {
        "values": values,
        "errors": errors,
        "page": page,
        "kinds": KINDS,
        "next_link": (
            "/discover?" + urlencode({**values, "offset": page.next_offset})
            if page is not None and page.next_offset is not None
            else None
        ),
        "recommended": await _recommendations(request, me) if me else None,
        "ranking": await _most_influential(request, observed, skill),
        "ranking_skill": skill,
        "computed_at": observed.computed_at,
        "link_for": lambda uri: link_for(request, uri),
    }
    return await render(request, "discover.html", context, status_code=400 if errors else 200)


routes = [Route("/discover", discover_page)]
