"""Mastodon's error shape: `{"error": "..."}` with the status Mastodon gives for the case."""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from talentfed.web.mastodon.params import ParamsError

Found = TypeVar("Found")
NOT_FOUND = "Record not found"


class MastodonError(Exception):
    """Raised by an endpoint; answered as Mastodon answers it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def validation_failed(reason: object) -> MastodonError:
    """Mastodon's 422 for a field it cannot take: `Validation failed: <reason>`."""
    return MastodonError(422, f"Validation failed: {reason}")


def found(value: Found | None) -> Found:
    """`value`, or Mastodon's 404 when there is none (an id that names nothing, say)."""
    if value is None:
        raise MastodonError(404, NOT_FOUND)
    return value


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def mastodon_error(request: Request, exc: Exception) -> Response:
    """The app's handler for MastodonError, and for a body no endpoint could read as parameters
    (ParamsError: OAuth endpoints answer those themselves, in RFC 6749's shape)."""
    if isinstance(exc, ParamsError):
        exc = validation_failed(exc)
    if not isinstance(exc, MastodonError):  # registered for these two only
        raise exc
    return error_response(exc.status, exc.message)
