"""What a signed-in app reads of its member: `verify_credentials` and the home timeline."""

from __future__ import annotations

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain.profiles import profile_counts
from talentfed.domain.visibility import readable_by
from talentfed.storage.models import Actor, Follow, Object
from talentfed.web.mastodon.auth import INVALID_TOKEN, Holder, scoped
from talentfed.web.mastodon.entities import VISIBILITY, account
from talentfed.web.mastodon.errors import MastodonError
from talentfed.web.mastodon.paging import in_order, link_header, page_of, paged
from talentfed.web.mastodon.statuses import statuses_json


def _member(holder: Holder) -> Actor:
    if holder.actor is None:  # scoped(user_required=True) has refused app-only tokens
        raise RuntimeError("a member's token was expected")
    return holder.actor


@scoped("read:accounts")
async def verify_credentials(request: Request, holder: Holder) -> Response:
    """The member's Account, with `source`: what the app's profile editor starts from."""
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await session.get(Actor, _member(holder).id)
        if actor is None:  # deleted since the token was read
            raise MastodonError(401, INVALID_TOKEN)
        body = account(actor, await profile_counts(session, actor), config)
    body["source"] = {
        "privacy": VISIBILITY["public"],
        "sensitive": False,
        "language": "en",
        "note": actor.summary_source or "",
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
            for f in actor.fields or []
        ],
        "follow_requests_count": 0,
    }
    return JSONResponse(body)


@scoped("read:statuses")
async def home_timeline(request: Request, holder: Holder) -> Response:
    """The member's own posts and those of the accounts they follow, newest first."""
    member = _member(holder)
    page = page_of(request)
    followed = select(Follow.followed_id).where(Follow.follower_id == member.id, Follow.state == "accepted")
    query = select(Object).where(
        Object.deleted_at.is_(None),
        readable_by(holder.viewer),
        or_(Object.author_id == member.id, Object.author_id.in_(followed)),
    )
    async with request.app.state.sessions() as session:
        posts = in_order(list(await session.scalars(paged(query, Object.id, page))), page)
        body = await statuses_json(session, request.app.state.config, posts, viewer=holder.viewer)
    return JSONResponse(body, headers=link_header(request, [p.id for p in posts]))


routes = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials),
    Route("/api/v1/timelines/home", home_timeline),
]
