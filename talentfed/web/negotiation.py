"""Content negotiation: the same URL answers ActivityPub clients with JSON and browsers with HTML."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from talentfed.federation.context import published

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"


def wants_activity_json(request: Request) -> bool:
    """True for `application/activity+json` or `application/ld+json` (any profile, as Mastodon)."""
    accept = request.headers.get("accept", "").lower()
    for part in accept.split(","):
        media_type = part.split(";", 1)[0].strip()
        if media_type in (ACTIVITY_JSON, LD_JSON):
            return True
    return False


class ActivityJSONResponse(Response):
    """One of our ActivityStreams documents, in the form we publish (`context.published`)."""

    media_type = f"{ACTIVITY_JSON}; charset=utf-8"

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        headers = {"Vary": "Accept, Signature", **(headers or {})}
        super().__init__(content, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        return json.dumps(published(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
