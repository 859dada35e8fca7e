"""What a signed-in member is told about: a read-model over follows, posts and interactions.

Nothing is stored for it. Each notification is derived from a row that exists anyway:

- `follow` / `follow_request`: a row of `follows` naming the member (accepted / pending);
- `reply`, `answer`, `interest`: a post replying to one of the member's posts (an answer is a
  post of kind answer; a reply to a project call is how interest in it is shown, here and on
  Mastodon, so every other reply to a project call is `interest`);
- `like`, `announce`: an edge of `interactions` on one of the member's posts;
- `mention`: an edge of `interactions` naming the member, unless the mentioning post is
  already a reply to one of the member's posts (Mastodon mentions the author it replies to;
  one notification is enough).

Left out: the member's own actions, deleted posts (the reply, or the member's post it
concerns), and actors on blocked domains. Newest first; `before` pages back in time and
`since` keeps only what is newer than a moment (what has not been seen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from html import unescape
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.config import Config
from talentfed.federation.blocks import blocked_domains, is_blocked
from talentfed.storage.models import Actor, Follow, Interaction, Object

KINDS = ("follow", "follow_request", "reply", "answer", "interest", "like", "announce", "mention")
EXCERPT_CHARS = 200
TITLE_CHARS = 80
MAX_LIMIT = 500


@dataclass(frozen=True)
class Who:
    """The other actor: enough to name and link them."""

    id: int
    display_name: str  # the display name, or the username when there is none
    handle: str  # user@domain
    url: str  # their profile page (the actor's id when they have no page)
    local: bool


@dataclass(frozen=True)
class PostRef:
    """The post a notification is about."""

    id: int
    uri: str
    url: str
    title: str  # its name, or the start of its text for posts without one
    kind: str  # article | question | answer | project | note


@dataclass(frozen=True)
class Notification:
    kind: str  # one of KINDS
    at: datetime
    who: Who
    # The member's post that was replied to, answered, liked or announced; for a mention, the
    # post that mentions the member; None for follows.
    post: PostRef | None = None
    reply_uri: str | None = None  # reply, answer, interest: the reply itself
    excerpt: str | None = None  # reply, answer, interest, mention: the start of its text, plain


def plain_excerpt(html: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Sanitised HTML as one line of plain text, cut at a word with an ellipsis."""
    text = re.sub(r"<br\s*/?>|</p>|</li>|</h\d>", " ", html or "", flags=re.IGNORECASE)
    text = unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:.-") + "…"
    return text


# --- the query ----------------------------------------------------------------------------


def _sources(actor_id: int) -> CompoundSelect[*tuple[Any, ...]]:
    """One row per notification: (kind, at, who_id, post_id, reply_id, source, ref_id).

    `source` and `ref_id` (the row's table and id) only make the order total.
    """
    reply, parent, post = aliased(Object), aliased(Object), aliased(Object)
    my_posts = select(Object.uri).where(Object.author_id == actor_id)
    no_id = cast(null(), Integer)

    follows = select(
        case((Follow.state == "accepted", "follow"), else_="follow_request").label("kind"),
        Follow.created_at.label("at"),
        Follow.follower_id.label("who_id"),
        no_id.label("post_id"),
        no_id.label("reply_id"),
        literal_column("1").label("source"),
        Follow.id.label("ref_id"),
    ).where(Follow.followed_id == actor_id, Follow.follower_id != actor_id)

    replies = (
        select(
            case(
                (reply.kind == "answer", "answer"),
                (parent.kind == "project", "interest"),
                else_="reply",
            ),
            reply.published,
            reply.author_id,
            parent.id,
            reply.id,
            literal_column("2"),
            reply.id,
        )
        .join(parent, parent.uri == reply.in_reply_to_uri)
        .where(
            parent.author_id == actor_id,
            parent.deleted_at.is_(None),
            reply.author_id != actor_id,
            reply.deleted_at.is_(None),
        )
    )

    def edges(source: int) -> Select[*tuple[Any, ...]]:
        return select(
            Interaction.kind,
            Interaction.created_at,
            Interaction.actor_id,
            post.id,
            no_id,
            literal_column(str(source)),
            Interaction.id,
        ).join(post, post.id == Interaction.object_id)

    # Two branches, so that each can use its index (interactions.object_id, .target_actor_id).
    reactions = edges(3).where(
        post.author_id == actor_id,
        post.deleted_at.is_(None),
        Interaction.kind.in_(("like", "announce")),
        Interaction.actor_id != actor_id,
    )
    mentions = edges(4).where(
        Interaction.target_actor_id == actor_id,
        Interaction.kind == "mention",
        Interaction.actor_id != actor_id,
        post.author_id != actor_id,
        post.deleted_at.is_(None),
        or_(post.in_reply_to_uri.is_(None), post.in_reply_to_uri.not_in(my_posts)),
    )
    return union_all(follows, replies, reactions, mentions)


async def _blocked_actor_domains(session: AsyncSession, config: Config) -> list[str]:
    """The domains of known remote actors that a block covers (a block covers subdomains)."""
    blocked = await blocked_domains(session, config)
    if not blocked:
        return []
    domains = await session.scalars(select(Actor.domain).where(Actor.local.is_(False)).distinct())
    return [domain for domain in domains if is_blocked(domain, blocked)]


async def _filtered(
    session: AsyncSession,
    config: Config,
    actor: Actor,
    since: datetime | None,
    before: datetime | None,
) -> tuple[Subquery, type[Actor], list[ColumnElement[bool]]]:
    """The notifications as a subquery, the alias of their actor, and the conditions to apply."""
    rows = _sources(actor.id).subquery("notifications")
    who = aliased(Actor)
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(rows.c.at > since)
    if before is not None:
        conditions.append(rows.c.at < before)
    hidden = await _blocked_actor_domains(session, config)
    if hidden:
        conditions.append(or_(who.local.is_(True), who.domain.not_in(hidden)))
    return rows, who, conditions


async def notifications_for(
    session: AsyncSession,
    actor: Actor,
    *,
    config: Config,
    since: datetime | None = None,
    limit: int = 50,
    before: datetime | None = None,
) -> list[Notification]:
    """The member's notifications, newest first: at most `limit` (capped at MAX_LIMIT), older
    than `before`, newer than `since`. The next page is `before=<the last one's at>` (two
    notifications of the very same microsecond across a page boundary would lose the second).
    `config` is needed for the blocks it declares (`federation.blocked_domains`)."""
    limit = max(0, min(limit, MAX_LIMIT))
    if limit == 0:
        return []
    rows, who, conditions = await _filtered(session, config, actor, since, before)
    post, reply = aliased(Object), aliased(Object)
    query = (
        select(rows.c.kind, rows.c.at, who, post, reply)
        .join(who, who.id == rows.c.who_id)
        .outerjoin(post, post.id == rows.c.post_id)
        .outerjoin(reply, reply.id == rows.c.reply_id)
        .where(*conditions)
        .order_by(rows.c.at.desc(), rows.c.source.desc(), rows.c.ref_id.desc())
        .limit(limit)
    )
    result = await session.execute(query)
    return [
        _notification(kind, at, other, concerned, answer) for kind, at, other, concerned, answer in result
    ]


async def unread_count(
    session: AsyncSession, actor: Actor, seen_at: datetime | None, *, config: Config
) -> int:
    """How many notifications are newer than `seen_at` (all of them when it is None)."""
    rows, who, conditions = await _filtered(session, config, actor, seen_at, None)
    query = select(func.count()).select_from(rows).join(who, who.id == rows.c.who_id).where(*conditions)
    return int(await session.scalar(query) or 0)


def _notification(
    kind: str, at: datetime, other: Actor, post: Object | None, reply: Object | None
) -> Notification:
    excerpt = None
    if reply is not None:
        excerpt = plain_excerpt(reply.content or reply.summary or reply.name)
    elif kind == "mention" and post is not None:
        excerpt = plain_excerpt(post.content or post.summary or post.name)
    return Notification(
        kind=kind,
        at=at,
        who=Who(
            id=other.id,
            display_name=other.display_name or other.username,
            handle=other.handle,
            url=other.url or other.uri,
            local=other.local,
        ),
        post=_post_ref(post) if post is not None else None,
        reply_uri=reply.uri if reply is not None else None,
        excerpt=excerpt,
    )


def _post_ref(post: Object) -> PostRef:
    title = post.name or plain_excerpt(post.content or post.summary, TITLE_CHARS)
    return PostRef(id=post.id, uri=post.uri, url=post.url or post.uri, title=title, kind=post.kind)
