"""Valid, empty answers for what talentfed does not do, so that apps do not break on them:
custom emojis, announcements, filters, lists, trends, suggestions, followed tags, Web Push.

Each returns what Mastodon returns when there is nothing (an empty list), and asks for the token
and scope that Mastodon asks for. Web Push answers as Mastodon answers a token that has no
subscription (404, and `{}` to a removal); subscribing is refused (422), so apps poll instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed


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
    # We keep no notification requests: the notification policy hides (domain/notifications.py).
    "/api/v1/notifications/requests": "read:notifications",
}


@scoped("push")
async def no_push_subscription(request: Request, holder: Holder) -> Response:
    """GET and PUT: the token has no Web Push subscription to show or change."""
    raise MastodonError(404, NOT_FOUND)


@scoped("push")
async def no_web_push(request: Request, holder: Holder) -> Response:
    """POST: there is no Web Push here (the instance's `vapid_key` is empty)."""
    raise validation_failed("Web Push is not supported on this server")


PUSH = "/api/v1/push/subscription"
routes = [
    *(Route(path, empty_list) for path in PUBLIC_EMPTY_LISTS),
    *(Route(path, _empty_for(scope, [])) for path, scope in MEMBERS_EMPTY_LISTS.items()),
    Route(PUSH, no_push_subscription, methods=["GET", "PUT"]),
    Route(PUSH, no_web_push, methods=["POST"]),
    Route(PUSH, _empty_for("push", {}), methods=["DELETE"]),
]
