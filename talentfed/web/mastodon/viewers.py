"""Who reads through the client API, for the one visibility rule (domain/visibility.py)."""

from __future__ import annotations

from starlette.requests import Request

from talentfed.domain.visibility import ANONYMOUS, Viewer
from talentfed.web.mastodon.auth import bearer_holder


async def request_viewer(request: Request) -> Viewer:
    """The member whose bearer token came with the request, else anyone. Endpoints that
    anyone may call still show a member what the member may read."""
    holder = await bearer_holder(request)
    return holder.viewer if holder is not None else ANONYMOUS
