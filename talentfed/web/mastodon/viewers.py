"""Who reads through the client API, for the one visibility rule (domain/visibility.py)."""

from __future__ import annotations

from starlette.requests import Request

from talentfed.domain.visibility import ANONYMOUS, Viewer


async def request_viewer(request: Request) -> Viewer:
    """The reader of a client API request. Until bearer tokens are read (issue 14, OAuth),
    everyone reads as anyone: public and unlisted posts only."""
    return ANONYMOUS
