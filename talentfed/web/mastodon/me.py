"""What a signed-in app reads of its member: `verify_credentials` and the home timeline."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import timelines
from talentfed.domain.profiles import ProfileCounts, profile_counts
from talentfed.storage.models import Actor
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.entities import VISIBILITY, account
from talentfed.web.mastodon.reblogs import timeline_page_of
from talentfed.web.mastodon.statuses import timeline_json, timeline_links

# The role of a member without one (Mastodon 4.0's CredentialAccount `role`): no permissions,
# as there is no admin API here.
EVERYONE_ROLE = {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}


def credential_account(actor: Actor, counts: ProfileCounts, config: Config) -> dict[str, Any]:
    """The member's own Account, with `source`: what an app's profile editor starts from."""
    body = account(actor, counts, config)
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
        "discoverable": actor.discoverable,
        "indexable": actor.indexable,
        "hide_collections": False,  # followers and following are public here
    }
    body["role"] = EVERYONE_ROLE
    return body


@scoped("read:accounts")
async def verify_credentials(request: Request, holder: Holder) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        actor = await member_in(session, holder)
        return JSONResponse(credential_account(actor, await profile_counts(session, actor), config))


@scoped("read:statuses")
async def home_timeline(request: Request, holder: Holder) -> Response:
    """The member's own posts and reblogs and those of the accounts they follow, newest first."""
    page = timeline_page_of(request)
    async with request.app.state.sessions() as session:
        items = await timelines.home(session, holder.member, holder.viewer, page)
        body = await timeline_json(session, request.app.state.config, items, viewer=holder.viewer)
    return JSONResponse(body, headers=timeline_links(request, items))


routes = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials),
    Route("/api/v1/timelines/home", home_timeline),
]
