"""Reading a request body with a size cap: the one place every POST handler reads its body.

A declared Content-Length over the cap is refused before reading; a body sent without one
(chunked) is read only until it passes the cap, never to the end.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from starlette.requests import Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """The body, at most `limit` bytes; raises BodyTooLarge as soon as it is longer.

    Starlette's ClientDisconnect passes through: the caller decides what a half-sent body means.
    The body is kept on the request, so that `request.form()` can still parse it.
    """
    body = b"".join([chunk async for chunk in capped_stream(request, limit)])
    request._body = body  # what Request.body() caches; form() and json() read it from there
    return body


async def capped_stream(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body as it arrives, for a parser that reads as it goes (multipart uploads); raises
    BodyTooLarge once `limit` bytes have passed, or at once when the declared length is over."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        yield chunk
