"""The client API's rate limits at work: every limited request is counted (against what, says
`web/rate_limits.py`); over a limit the answer is Mastodon's 429, and every other limited answer
tells its client where it stands (X-RateLimit-Limit, -Remaining, -Reset).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentfed.rate_limiter import Window
from talentfed.web.mastodon.auth import bearer_holder
from talentfed.web.mastodon.errors import error_response
from talentfed.web.rate_limits import rate_limits

TOO_MANY = "Too many requests"  # Mastodon's text for 429


def headers(window: Window) -> dict[str, str]:
    """Mastodon's X-RateLimit-* headers for the limit a client is closest to."""
    return {
        "X-RateLimit-Limit": str(window.rule.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        # As Mastodon writes it (Ruby's iso8601(6)): 2026-12-06T22:40:00.000000Z
        "X-RateLimit-Reset": datetime.fromtimestamp(window.resets_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def too_many(window: Window) -> Response:
    """Mastodon's 429, which also says when to come back."""
    response = error_response(429, TOO_MANY)
    response.headers.update({**headers(window), "Retry-After": str(window.retry_after)})
    return response


class RateLimitMiddleware:
    """Counts each limited request, answers 429 over a limit, and gives every limited answer the
    X-RateLimit-* headers. Inside `ApiCorsMiddleware`, so that browser apps can read a 429 too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = rate_limits(HTTPConnection(scope)) if scope["type"] == "http" else None
        counted = limits.of_request(HTTPConnection(scope)) if limits else []
        if limits is None or not counted:
            await self.app(scope, receive, send)
            return
        if limits.counts_a_token(counted):
            # Looked up once per request: the endpoint finds the holder on the request's state.
            holder = await bearer_holder(Request(scope))
            if holder is not None and holder.user is not None:
                counted += limits.of_account(holder.user.id)
        windows = await limits.count(counted)
        if over := [window for window in windows if window.exceeded]:
            # Not before the last of them has reset may the request pass.
            await too_many(max(over, key=lambda window: window.resets_at))(scope, receive, send)
            return
        closest = headers(min(windows, key=lambda window: window.remaining))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(closest)
            await send(message)

        await self.app(scope, receive, send_with_headers)
