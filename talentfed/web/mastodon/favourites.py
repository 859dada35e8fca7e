"""Favourites and reblogs as lists: who favourited or reblogged a status
(`/api/v1/statuses/:id/favourited_by`, `/reblogged_by`), and the member's favourites
(`/api/v1/favourites`). The rows come from domain/reactions.py; a status the reader may not
read is Mastodon's 404, accounts on blocked domains are left out (domain/visibility.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from talentfed.domain import reactions
from talentfed.domain.visibility import hidden_domains
from talentfed.storage.models import Interaction
from talentfed.web.mastodon.accounts import accounts_page
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.paging import page_of
from talentfed.web.mastodon.statuses import marked_statuses, readable_post, status_id
from talentfed.web.mastodon.viewers import request_viewer

# Mastodon's limits for lists of accounts under a status.
ACCOUNTS_LIMIT, MAX_ACCOUNTS_LIMIT = 40, 80


Endpoint = Callable[[Request], Awaitable[Response]]


def _reactors(kind: str) -> Endpoint:
    """The accounts whose `kind` (like or announce) of the status there is, newest first, paged
    by that interaction's id."""

    async def endpoint(request: Request) -> Response:
        viewer = await request_viewer(request)
        page = page_of(request, ACCOUNTS_LIMIT, MAX_ACCOUNTS_LIMIT)
        async with request.app.state.sessions() as session:
            post = await readable_post(session, viewer, status_id(request))
            hidden = await hidden_domains(session, request.app.state.config)
        return await accounts_page(request, reactions.reactor_rows(post, kind, hidden), Interaction.id, page)

    return endpoint


@scoped("read:favourites")
async def index(request: Request, holder: Holder) -> Response:
    """The member's favourites, newest first, paged by the favourite's id."""
    page = page_of(request)
    return await marked_statuses(
        request, holder.viewer, lambda session: reactions.liked(session, holder.member, holder.viewer, page)
    )


routes = [
    Route("/api/v1/statuses/{id}/favourited_by", _reactors("like")),
    Route("/api/v1/statuses/{id}/reblogged_by", _reactors("announce")),
    Route("/api/v1/favourites", index),
]
