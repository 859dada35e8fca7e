"""503 with Retry-After, not a 500, while the database is out of reach.

The database may be stopped, restarting or out of disk space: nothing was stored (the
transaction did not commit), so the sender may safely try again. A middleware rather than an
exception handler, because a handler sees only what routes raise, and the rate limits and the
token lookup read the database before any route runs. Any other error goes on as before (a
database error that is a bug stays a 500), as does one raised after the answer has started.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentfed.storage.db import first_line, is_unavailable

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait: about what a PostgreSQL restart or a freed disk takes;
# remote servers retry their delivery then.
DATABASE_RETRY_AFTER = 10


class DatabaseUnavailableMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            if started or not is_unavailable(exc):
                raise
            logger.warning(
                "database unavailable for %s %s: %s", scope["method"], scope["path"], first_line(exc)
            )
            answer = JSONResponse(
                {"error": "the database is unavailable; try again later"},
                status_code=503,
                headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
            )
            await answer(scope, receive, send)
