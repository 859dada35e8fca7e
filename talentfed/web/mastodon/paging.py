"""Mastodon's pagination on the wire: `max_id`, `since_id`, `min_id` and `limit` read from a
request, a `Link` header written for the answer. The paging of queries is domain/paging.py."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.requests import Request

from talentfed.domain.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from talentfed.web.mastodon.errors import MastodonError


def _id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise MastodonError(422, f"{name} must be an id")
    return int(raw)


def page_of(request: Request) -> Page:
    """The page a request asks for; a limit beyond 40 is 40, as Mastodon does."""
    raw_limit = request.query_params.get("limit") or str(DEFAULT_LIMIT)
    if not raw_limit.isdigit():
        raise MastodonError(422, "limit must be a whole number")
    limit = min(max(int(raw_limit), 1), MAX_LIMIT)
    return Page(_id(request, "max_id"), _id(request, "since_id"), _id(request, "min_id"), limit)


def link_header(request: Request, ids: Sequence[int]) -> dict[str, str]:
    """`Link: <…max_id=oldest>; rel="next", <…min_id=newest>; rel="prev"` for a non-empty page."""
    if not ids:
        return {}
    base = str(request.url.replace(query=""))
    kept = {k: v for k, v in request.query_params.items() if k not in ("max_id", "min_id", "since_id")}
    older = f"{base}?{urlencode({**kept, 'max_id': min(ids)})}"
    newer = f"{base}?{urlencode({**kept, 'min_id': max(ids)})}"
    return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}
