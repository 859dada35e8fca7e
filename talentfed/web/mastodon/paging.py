"""Mastodon's pagination on the wire: `max_id`, `since_id`, `min_id` and `limit` read from a
request, a `Link` header written for the answer. The paging of queries is domain/paging.py."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from starlette.requests import Request

from talentfed.domain.paging import DEFAULT_LIMIT, MAX_LIMIT, Page
from talentfed.web.mastodon.errors import MastodonError
from talentfed.web.mastodon.params import MAX_ROW_ID, whole_number


def id_param(request: Request, name: str) -> int | None:
    """An id to page from, as sent (ASCII digits, else 422); None when not sent."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    number = whole_number(raw)
    if number is None:
        raise MastodonError(422, f"{name} must be an id")
    return number


def _id(request: Request, name: str) -> int | None:
    """An id to page from; one beyond every row's is the largest (as far as rows go, the same)."""
    number = id_param(request, name)
    return None if number is None else min(number, MAX_ROW_ID)


def limit_of(request: Request, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The `limit` asked for; one beyond `maximum` is `maximum`, as Mastodon does."""
    raw_limit = request.query_params.get("limit") or str(default)
    number = whole_number(raw_limit, max_digits=len(raw_limit))
    if number is None:
        raise MastodonError(422, "limit must be a whole number")
    return min(max(number, 1), maximum)


def page_of(request: Request, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Page:
    """The page a request asks for; a limit beyond `maximum` (40) is `maximum`, as Mastodon does."""
    limit = limit_of(request, default, maximum)
    return Page.asked(_id(request, "max_id"), _id(request, "since_id"), _id(request, "min_id"), limit)


def link_header(request: Request, ids: Sequence[int]) -> dict[str, str]:
    """`Link: <…max_id=oldest>; rel="next", <…min_id=newest>; rel="prev"` for a non-empty page."""
    if not ids:
        return {}
    return links_between(request, str(min(ids)), str(max(ids)))


def links_between(request: Request, oldest: str, newest: str) -> dict[str, str]:
    """The `Link` header of a page whose ids are not row ids: its oldest and newest ids.
    Repeated parameters (`types[]=…`) are kept."""
    base = str(request.url.replace(query=""))
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "min_id", "since_id")
    ]
    older = f"{base}?{urlencode([*kept, ('max_id', oldest)])}"
    newer = f"{base}?{urlencode([*kept, ('min_id', newest)])}"
    return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}
