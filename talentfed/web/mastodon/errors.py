"""Mastodon's error shape: `{"error": "..."}` with the status Mastodon gives for the case."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class MastodonError(Exception):
    """Raised by an endpoint; answered as Mastodon answers it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def mastodon_error(request: Request, exc: Exception) -> Response:
    """The app's handler for MastodonError."""
    if not isinstance(exc, MastodonError):  # registered for MastodonError only
        raise exc
    return error_response(exc.status, exc.message)


NOT_FOUND = "Record not found"
