"""Request ids, one access-log line and the HTTP metrics of each request (pure ASGI, so streaming
is untouched).

The request's work runs under its id (`observability.logs.request_scope`): every line logged
meanwhile carries it, and so do the delivery jobs the request queues.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentfed.observability import metrics
from talentfed.observability.logs import request_scope

logger = logging.getLogger("talentfed.access")
REQUEST_ID_HEADER = b"x-request-id"
# A proxy's id is kept only if it looks like an id, so logs cannot be forged through it.
_VALID_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with request_scope(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = route_template(scope)
                metrics.count_request(scope["method"], route, status, elapsed)
                logger.info(
                    "%s %s %d %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    elapsed * 1000,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                    },
                )


def route_template(scope: Scope) -> str:
    """The template of the route that answered (`/users/{username}/inbox`), not the path asked
    for: one label value per route, however many paths clients make up."""
    route = scope.get("route")  # set by Starlette's router on the scope it was given
    if route is None:
        return metrics.UNMATCHED
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    return str(getattr(route, "path", metrics.UNMATCHED))


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and _VALID_ID.match(value):
            return value.decode()
    return None
