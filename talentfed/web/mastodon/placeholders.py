"""Valid, empty answers for what talentfed does not do, so that apps do not break on them:
custom emojis, announcements, filters, lists, markers, trends, suggestions.

Each returns what Mastodon returns when there is nothing: an empty list, or for markers an
empty object. These answer anyone; the ones Mastodon keeps for signed-in users will check the
token once the OAuth endpoints are in (issue 14).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def empty_list(request: Request) -> Response:
    return JSONResponse([])


async def empty_object(request: Request) -> Response:
    return JSONResponse({})


EMPTY_LISTS = (
    "/api/v1/custom_emojis",
    "/api/v1/announcements",
    "/api/v1/filters",
    "/api/v2/filters",
    "/api/v1/lists",
    "/api/v1/trends",
    "/api/v1/trends/tags",
    "/api/v1/trends/statuses",
    "/api/v1/trends/links",
    "/api/v2/suggestions",
    "/api/v1/followed_tags",
)

routes = [
    *(Route(path, empty_list) for path in EMPTY_LISTS),
    Route("/api/v1/markers", empty_object),
]
