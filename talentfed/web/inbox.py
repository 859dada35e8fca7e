"""POST /users/{username}/inbox and the shared POST /inbox."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.federation.inbox import InboxResult
from talentfed.observability import metrics
from talentfed.web.bodies import BodyTooLarge, read_body


def _answer(result: InboxResult) -> Response:
    return JSONResponse({"status": result.status, "reason": result.reason}, status_code=result.status)


def _refused(result: InboxResult) -> Response:
    """Refused here, before the inbox saw it (which counts what it answers itself)."""
    metrics.count_inbox_activity(result.status, result.code)
    return _answer(result)


async def inbox_endpoint(request: Request) -> Response:
    federation = request.app.state.federation
    limit = request.app.state.config.federation.max_inbox_body_bytes
    try:
        body = await read_body(request, limit)
    except ClientDisconnect:
        return Response(status_code=400)
    except BodyTooLarge as exc:
        return _refused(InboxResult(413, str(exc), "too_large"))
    # A personal inbox takes the same path as the shared one; the inbox answers 404 for an
    # unknown recipient.
    recipient = request.path_params.get("username")
    result = await federation.inbox.receive(
        request.method, str(request.url), request.headers, body, recipient=recipient
    )
    return _answer(result)


routes = [
    Route("/inbox", inbox_endpoint, methods=["POST"]),
    Route("/users/{username}/inbox", inbox_endpoint, methods=["POST"]),
]
