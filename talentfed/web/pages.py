"""Public HTML pages: the institution's home, a member's profile, a post, simple messages.

The same URLs answer ActivityPub clients with JSON (web/activitypub.py, web/objects.py);
these functions are what a browser gets.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from talentfed.config import Config
from talentfed.domain import node_about
from talentfed.domain.federation_status import delivery_status, delivery_status_many
from talentfed.domain.moves import moved_to
from talentfed.domain.mutes import mute_of
from talentfed.domain.neighbourhood import Neighbourhood, load_neighbourhood
from talentfed.domain.posts import answers_to, find_object
from talentfed.domain.profiles import listed_posts, profile_counts
from talentfed.domain.visibility import readable_by
from talentfed.federation.account_blocks import find_block
from talentfed.federation.post_documents import content_warning
from talentfed.storage.models import Actor, Follow, Object
from talentfed.text import html_to_excerpt, normalize_skill
from talentfed.web.neighbourhood_svg import render_neighbourhood
from talentfed.web.social import follow_page
from talentfed.web.templating import reader, render, viewer

POST_KINDS = (
    ("project", "Project calls"),
    ("article", "Articles"),
    ("question", "Questions"),
    ("answer", "Answers"),
)
PER_SECTION = 10


async def message(request: Request, title: str, text: str, *, status_code: int = 200) -> HTMLResponse:
    """A page that only says something: not found, gone, an error, a confirmation."""
    return await render(request, "message.html", {"title": title, "text": text}, status_code=status_code)


def post_url(item: Object) -> str:
    """Where a browser reads a post here: its own page if local, else the observed copy."""
    return (item.url or item.uri) if item.local else f"/observed?uri={quote(item.uri, safe='')}"


async def _latest_local(session: AsyncSession, kind: str, limit: int = 6) -> list[tuple[Object, Actor]]:
    query = (
        listed_posts(kind)
        .add_columns(Actor)
        .join(Actor, Actor.id == Object.author_id)
        .where(Object.local.is_(True))
        .order_by(Object.published.desc())
        .limit(limit)
    )
    if kind == "project":
        query = query.where(Object.status == "open")
    return [(post, author) for post, author in await session.execute(query)]


async def home(request: Request) -> HTMLResponse:
    """The institution: about, members (filtered by skill), latest posts, a follow button."""
    config = request.app.state.config
    skill = normalize_skill(request.query_params.get("skill", ""))[:100]
    async with request.app.state.sessions() as session:
        institution = await session.scalar(
            select(Actor).where(Actor.local.is_(True), Actor.username == config.node.institution_username)
        )
        members = list(
            await session.scalars(
                select(Actor)
                .where(Actor.local.is_(True), Actor.type == "Person", Actor.discoverable.is_(True))
                .order_by(Actor.display_name, Actor.username)
            )
        )
        latest = {kind: await _latest_local(session, kind) for kind in ("project", "article", "question")}
        contact = await node_about.contact_account(session, config)
    all_skills = sorted({s for member in members for s in member.skills or []})
    if skill:
        members = [member for member in members if skill in (member.skills or [])]
    context = {
        "institution": institution,
        "members": members,
        "skill": skill,
        "all_skills": all_skills,
        "latest": latest,
        "rules": node_about.rules_of(config),
        "contact": contact,
        "admin_contact": config.node.admin_contact,
        "alternate": institution.uri if institution else None,
        "og": {
            "title": config.node.name,
            "url": config.node.base_url + "/",
            "description": config.node.summary,
        },
    }
    return await render(request, "home.html", context)


async def profile(
    request: Request, actor: Actor, *, follow_value: str = "", follow_error: str = ""
) -> HTMLResponse:
    """A member's (or the institution's) profile, with the remote-follow box."""
    config = request.app.state.config
    me = await viewer(request)
    who = await reader(request)
    async with request.app.state.sessions() as session:
        counts = dataclasses.asdict(await profile_counts(session, actor))
        sections = []
        for kind, heading in POST_KINDS:
            query = listed_posts(kind).where(Object.author_id == actor.id, readable_by(who))
            posts = list(await session.scalars(query.order_by(Object.published.desc()).limit(PER_SECTION)))
            if posts:
                sections.append((heading, posts))
        # The author sees how each post went out; nobody else needs to.
        delivery = {}
        if me is not None and me.actor.id == actor.id:
            delivery = await delivery_status_many(session, [p for _, posts in sections for p in posts])
        my_follow = my_block = my_mute = None
        if me is not None and me.actor.id != actor.id:
            my_follow = await session.scalar(
                select(Follow).where(Follow.follower_id == me.actor.id, Follow.followed_id == actor.id)
            )
            my_block = await find_block(session, me.actor.id, actor.id)
            my_mute = await mute_of(session, me.actor.id, actor.id)
        around = await _neighbourhood(session, config, actor)
        moved = await moved_to(session, actor)
    context = {
        "actor": actor,
        "moved_to": moved,
        "counts": counts,
        "sections": sections,
        "delivery": delivery,
        "my_follow": my_follow,
        "my_block": my_block,
        "my_mute": my_mute,
        "neighbourhood": render_neighbourhood(around) if around else None,
        "neighbours": around.neighbours if around else (),
        "follow_value": follow_value,
        "follow_error": follow_error,
        "alternate": actor.uri,
        "creator": f"@{actor.handle}",
        "og": {
            "type": "profile",
            "title": f"{actor.display_name or actor.username} (@{actor.handle})",
            "url": actor.url or actor.uri,
            "description": actor.headline or html_to_excerpt(actor.summary),
            "image": actor.icon_url,
        },
    }
    return await render(request, "profile.html", context, status_code=400 if follow_error else 200)


FOLLOW_LIST_LIMIT = 200


async def follow_list(request: Request, actor: Actor, direction: str, other, accepted) -> HTMLResponse:
    """Followers or following of a local actor, for a browser (servers get the collection)."""
    async with request.app.state.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Follow).where(accepted))
        people = list(
            await session.scalars(
                select(Actor)
                .join(Follow, other == Actor.id)
                .where(accepted)
                .order_by(Follow.id.desc())
                .limit(FOLLOW_LIST_LIMIT)
            )
        )
    heading = "Followers" if direction == "followers" else "Following"
    context = {"actor": actor, "people": people, "total": total or 0, "heading": heading}
    alternate = request.app.state.config.node.base_url + request.url.path
    return await render(request, "follow_list.html", context | {"alternate": alternate})


async def _neighbourhood(session: AsyncSession, config: Config, actor: Actor) -> Neighbourhood | None:
    """An actor's connections, unless the actor opted out of being discovered."""
    if not (actor.discoverable and actor.indexable):
        return None
    return await load_neighbourhood(session, config, actor)


async def post(request: Request, item: Object, author: Actor, *, errors=None, values=None) -> HTMLResponse:
    """An article, a question with its answers, or a project call with the replies of interest."""
    me = await viewer(request)
    async with request.app.state.sessions() as session:
        who = await reader(request)
        replies = await answers_to(session, item, who) if item.kind in ("question", "project") else []
        reply_authors = {
            a.id: a
            for a in await session.scalars(
                select(Actor).where(Actor.id.in_({r.author_id for r, _ in replies}))
            )
        }
        parent = await find_object(session, item.in_reply_to_uri) if item.in_reply_to_uri else None
        status = None
        if me is not None and me.actor.id == author.id and item.local:
            status = await delivery_status(session, item)
    context = {
        "post": item,
        "author": author,
        "replies": [(reply, votes, reply_authors.get(reply.author_id)) for reply, votes in replies],
        "parent": parent,
        "is_owner": me is not None and me.actor.id == author.id,
        "delivery": status,
        "errors": errors or {},
        "values": values or {},
        "alternate": item.uri,
        "creator": f"@{author.handle}",
        "og": {
            "type": "article",
            "title": item.name or f"A post by {author.display_name or author.username}",
            "url": item.url or item.uri,
            # a content warning stands for the text it hides, in link previews too
            "description": content_warning(item) or html_to_excerpt(item.summary or item.content),
        },
    }
    return await render(request, "post.html", context, status_code=400 if errors else 200)


async def authorize_interaction(request: Request) -> Response:
    """Where other servers send our members to follow someone (our WebFinger `subscribe` template)."""
    uri = request.query_params.get("uri", "").strip()
    if not uri:
        return await message(request, "Follow", "No account was given (uri=…).", status_code=400)
    return await follow_page(request, uri.removeprefix("acct:"))
