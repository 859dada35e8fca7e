"""Valid, empty answers for what talentfed does not do, so that apps do not break on them:
custom emojis, announcements, filters, lists, markers, trends, suggestions, followed tags.

Each returns what Mastodon returns when there is nothing (an empty list; for markers an empty
object), and asks for the token and scope that Mastodon asks for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.web.mastodon.auth import Holder, scoped


async def empty_list(request: Request) -> Response:
    return JSONResponse([])


def _empty_for(
    scope: str, body: list[object] | dict[str, object]
) -> Callable[[Request], Awaitable[Response]]:
    @scoped(scope)
    async def empty(request: Request, holder: Holder) -> Response:
        return JSONResponse(body)

    return empty


PUBLIC_EMPTY_LISTS = (
    "/api/v1/custom_emojis",
    "/api/v1/trends",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/trends/links",
)
# path → the scope Mastodon wants for it
MEMBERS_EMPTY_LISTS = {
    "/api/v1/announcements": "read",
    "/api/v1/filters": "read:filters",
    "/api/v2/filters": "read:filters",
    "/api/v1/lists": "read:lists",
    "/api/v2/suggestions": "read",
    "/api/v1/followed_tags": "read:follows",
}

routes = [
    *(Route(path, empty_list) for path in PUBLIC_EMPTY_LISTS),
    *(Route(path, _empty_for(scope, [])) for path, scope in MEMBERS_EMPTY_LISTS.items()),
    Route("/api/v1/markers", _empty_for("read:statuses", {})),
]
