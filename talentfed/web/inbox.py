"""POST /users/{username}/inbox and the shared POST /inbox."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain.members import find_local_actor
from talentfed.federation.inbox import InboxResult


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` (we stop reading there)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(result: InboxResult) -> Response:
    return JSONResponse({"status": result.status, "reason": result.reason}, status_code=result.status)


async def inbox_endpoint(request: Request) -> Response:
    federation = request.app.state.federation
    limit = request.app.state.config.federation.max_inbox_body_bytes
    try:
        body = await _read_limited(request, limit)
    except ClientDisconnect:
        return Response(status_code=400)
    if body is None:
        return _answer(InboxResult(413, f"body over {limit} bytes"))
    recipient = request.path_params.get("username")
    if recipient is not None:
        async with request.app.state.sessions() as session:
            if await find_local_actor(session, recipient) is None:
                return _answer(InboxResult(404, "no such account"))
    result = await federation.inbox.receive(
        request.method, str(request.url), request.headers, body, recipient=recipient
    )
    return _answer(result)


routes = [
    Route("/inbox", inbox_endpoint, methods=["POST"]),
    Route("/users/{username}/inbox", inbox_endpoint, methods=["POST"]),
]
