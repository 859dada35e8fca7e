"""Reblogs as statuses of their own. Mastodon answers a reblog with a new Status whose `reblog`
is the original; here a reblog is an `announce` row of `interactions` (ours, or another
server's Announce), not a post, so it needs an id that no post has.

A reblog's status id is REBLOG_IDS plus the row's id: far beyond every post id (post ids are
at most params.MAX_ROW_ID), so one number never names both, and `GET /api/v1/statuses/:id`
answers either. Who may see a reblog is who may read the post it reblogs (domain/visibility.py).

The two ranges say nothing of which status came first, so timelines that hold reblogs page by
where a status falls (domain/paging.Position), not by comparing ids: `timeline_page_of` reads
the ids an app pages from as posts' or reblogs' rows. Apps that order statuses by id themselves
(Tusky's home cache does) put every reblog above every post.
"""

from __future__ import annotations

from starlette.requests import Request

from talentfed.domain.paging import StatusRef, TimelinePage
from talentfed.domain.timelines import TimelineItem
from talentfed.storage.models import Interaction, Object
from talentfed.web.mastodon.paging import id_param, limit_of
from talentfed.web.mastodon.params import MAX_ROW_ID, row_id, whole_number

REBLOG_IDS = 10**15


def reblog_status_id(boost: Interaction) -> str:
    return str(REBLOG_IDS + boost.id)


def reblog_row(raw: str) -> int | None:
    """The `interactions` row a status id names, if it is a reblog's id."""
    number = whole_number(raw)
    if number is None or not 0 < number - REBLOG_IDS <= MAX_ROW_ID:
        return None
    return number - REBLOG_IDS


def item_status_id(item: TimelineItem) -> str:
    """The status id of a timeline's post or reblog."""
    return str(item.id) if isinstance(item, Object) else reblog_status_id(item.boost)


def status_ref(raw: str) -> StatusRef | None:
    """The post or reblog a status id names, or None when it names none."""
    row = reblog_row(raw)
    if row is not None:
        return StatusRef(row, reblog=True)
    post_id = row_id(raw)
    return StatusRef(post_id) if post_id is not None else None


def _ref(request: Request, name: str) -> StatusRef | None:
    """The status an id to page from names; one beyond every row's is the newest post's place
    and beyond (as far as rows go, the same)."""
    number = id_param(request, name)
    if number is None:
        return None
    row = reblog_row(str(number))
    return StatusRef(row, reblog=True) if row is not None else StatusRef(min(number, MAX_ROW_ID))


def timeline_page_of(request: Request) -> TimelinePage:
    """The page of a timeline of posts and reblogs that a request asks for."""
    return TimelinePage(
        _ref(request, "max_id"), _ref(request, "since_id"), _ref(request, "min_id"), limit_of(request)
    )
