"""Read markers (`/api/v1/markers`): where the member stopped reading the home timeline and
the notifications, kept by domain/markers.py, so that apps resume there on every device and
count what is unread."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain.markers import TIMELINES, MarkerError, markers_of, set_markers
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.entities import marker
from talentfed.web.mastodon.errors import validation_failed
from talentfed.web.mastodon.params import query_list, read_params, text_param


@scoped("read:statuses")
async def index(request: Request, holder: Holder) -> Response:
    """`timeline[]=home&timeline[]=notifications`: the markers the member has among those
    (none asked: `{}`, as on Mastodon)."""
    async with request.app.state.sessions() as session:
        found = await markers_of(session, holder.member, query_list(request, "timeline"))
    return JSONResponse({timeline: marker(position) for timeline, position in found.items()})


@scoped("write:statuses")
async def save(request: Request, holder: Holder) -> Response:
    """`home[last_read_id]`, `notifications[last_read_id]` (form or JSON): the markers saved."""
    params = await read_params(request)  # what it cannot read is answered 422 (errors.py)
    positions = {}
    for timeline in TIMELINES:
        name = f"{timeline}[last_read_id]"
        if name in params:
            positions[timeline] = text_param(params, name) or ""
    try:
        async with request.app.state.sessions() as session, session.begin():
            saved = await set_markers(session, holder.member, positions)
    except MarkerError as exc:
        raise validation_failed(exc) from None
    return JSONResponse({timeline: marker(position) for timeline, position in saved.items()})


routes = [Route("/api/v1/markers", index), Route("/api/v1/markers", save, methods=["POST"])]
