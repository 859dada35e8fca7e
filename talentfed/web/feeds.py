"""Atom and RSS feeds: each member's public posts, and the institution's open project calls."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from sqlalchemy import Select, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from talentfed.domain.visibility import listed
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Object

FEED_SIZE = 30
FORMATS = ("atom", "rss")


def _attr(text: str) -> str:
    """Text for a double-quoted XML attribute."""
    return escape(text, {'"': "&quot;"})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _title(post: Object) -> str:
    if post.name:
        prefix = "Project call: " if post.kind == "project" else ""
        return prefix + post.name
    text = (post.source or "").strip().splitlines()
    return (text[0][:80] if text else post.kind.title()) or post.kind.title()


def atom(feed_id: str, title: str, link: str, author: str, posts: list[Object]) -> str:
    updated = max((p.updated or p.published for p in posts), default=None)
    entries = "".join(
        "<entry>"
        f"<id>{escape(p.uri)}</id><title>{escape(_title(p))}</title>"
        f'<link rel="alternate" type="text/html" href="{_attr(p.url or p.uri)}"/>'
        f"<published>{_iso(p.published)}</published><updated>{_iso(p.updated or p.published)}</updated>"
        + "".join(f'<category term="{_attr(skill)}"/>' for skill in [*p.skills, *p.tags])
        + f'<content type="html">{escape(p.content or "")}</content>'
        "</entry>"
        for p in posts
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{escape(feed_id)}</id><title>{escape(title)}</title>"
        f'<link rel="self" href="{_attr(feed_id)}"/>'
        f'<link rel="alternate" type="text/html" href="{_attr(link)}"/>'
        f"<author><name>{escape(author)}</name></author>"
        f"<updated>{_iso(updated) if updated else '1970-01-01T00:00:00Z'}</updated>{entries}</feed>\n"
    )


def rss(title: str, link: str, description: str, posts: list[Object]) -> str:
    items = "".join(
        "<item>"
        f"<title>{escape(_title(p))}</title><link>{escape(p.url or p.uri)}</link>"
        f'<guid isPermaLink="true">{escape(p.uri)}</guid>'
        f"<pubDate>{format_datetime(p.published, usegmt=True)}</pubDate>"
        + "".join(f"<category>{escape(skill)}</category>" for skill in [*p.skills, *p.tags])
        + f"<description>{escape(p.content or '')}</description></item>"
        for p in posts
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(description)}</description>{items}</channel></rss>\n"
    )


def _public(query: Select) -> Select:
    return query.where(Object.local.is_(True), Object.deleted_at.is_(None), listed())


async def member_feed(request: Request) -> Response:
    username, kind = request.path_params["username"], request.path_params["format"]
    if kind not in FORMATS:
        return PlainTextResponse("Not found: feeds are feed.atom and feed.rss", status_code=404)
    uris = LocalURIs(request.app.state.config.node.base_url)
    async with request.app.state.sessions() as session:
        actor = await session.scalar(select(Actor).where(Actor.local.is_(True), Actor.username == username))
        if actor is None:
            return PlainTextResponse("Not found: no such account", status_code=404)
        posts = list(
            await session.scalars(
                _public(select(Object).where(Object.author_id == actor.id))
                .order_by(Object.published.desc())
                .limit(FEED_SIZE)
            )
        )
    name = actor.display_name or actor.username
    if kind == "atom":
        body = atom(
            f"{uris.actor(username)}/feed.atom",
            f"{name} (@{actor.handle})",
            uris.profile_page(username),
            name,
            posts,
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")
    body = rss(f"{name} (@{actor.handle})", uris.profile_page(username), actor.headline or "", posts)
    return Response(body, media_type="application/rss+xml; charset=utf-8")


async def projects_feed(request: Request) -> Response:
    """The institution's open project calls, by any of its members."""
    config = request.app.state.config
    if request.path_params["format"] not in FORMATS:
        return PlainTextResponse("Not found: feeds are projects.atom and projects.rss", status_code=404)
    uris = LocalURIs(config.node.base_url)
    async with request.app.state.sessions() as session:
        posts = list(
            await session.scalars(
                _public(select(Object).where(Object.kind == "project", Object.status == "open"))
                .order_by(Object.published.desc())
                .limit(FEED_SIZE)
            )
        )
    if request.path_params["format"] == "atom":
        body = atom(
            f"{config.node.base_url}/projects.atom",
            f"{config.node.name}: project calls",
            uris.profile_page(config.node.institution_username),
            config.node.name,
            posts,
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")
    body = rss(f"{config.node.name}: project calls", config.node.base_url, config.node.summary, posts)
    return Response(body, media_type="application/rss+xml; charset=utf-8")


routes = [
    Route("/users/{username}/feed.{format}", member_feed),
    Route("/projects.{format}", projects_feed),
]
