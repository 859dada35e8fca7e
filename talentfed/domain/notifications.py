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
concerns), actors on blocked domains, and what the member dismissed (the one thing stored:
`notification_dismissals`, written by `dismiss` and `clear`). Newest first; `before` pages back
in time and `since` keeps only what is newer than a moment (what has not been seen).

Each notification has a stable key (`NotificationKey`): its time, its source table and that
row's id. The key orders notifications (newest is largest) and its text is the notification's
id in the client API, so apps can page by id (`Selection`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.config import Config
from talentfed.domain.visibility import hidden_domains
from talentfed.storage.models import MAX_ROW_ID, Actor, Follow, Interaction, NotificationDismissal, Object

KINDS = ("follow", "follow_request", "reply", "answer", "interest", "like", "announce", "mention")
EXCERPT_CHARS = 200
TITLE_CHARS = 80
MAX_LIMIT = 500

# Our kinds as Mastodon's notification types: every reply (an answer, interest in a project
# call) mentions the author it replies to on Mastodon, so apps show it as a mention.
MASTODON_TYPES = {
    "follow": "follow",
    "follow_request": "follow_request",
    "reply": "mention",
    "answer": "mention",
    "interest": "mention",
    "like": "favourite",
    "announce": "reblog",
    "mention": "mention",
}


def kinds_of_types(types: Iterable[str]) -> frozenset[str]:
    """Our kinds shown as any of Mastodon's `types` (unknown types name nothing)."""
    wanted = set(types)
    return frozenset(kind for kind, shown_as in MASTODON_TYPES.items() if shown_as in wanted)


# Sources of notifications, as `_sources` numbers them (part of every key: do not renumber).
FOLLOWS, REPLIES, REACTIONS, MENTIONS = 1, 2, 3, 4
_ZERO = datetime(1, 1, 1, tzinfo=UTC)  # any datetime is a non-negative count of µs from it
_MICROSECOND = timedelta(microseconds=1)
_TIME_DIGITS, _REF_DIGITS = 18, 10


@dataclass(frozen=True, order=True)
class NotificationKey:
    """A notification's place in the order and what it is: its time, source and row id.
    None of them changes, so neither does its text (`id`): fixed-width digits, so that
    comparing ids as numbers (or by length, then as text) keeps the order of times."""

    at: datetime
    source: int
    ref_id: int

    @property
    def id(self) -> str:
        micros = (self.at - _ZERO) // _MICROSECOND
        return f"{micros:0{_TIME_DIGITS}d}{self.source}{self.ref_id:0{_REF_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> NotificationKey | None:
        """The key an id names, or None for text that is no notification id."""
        if not text.isascii() or not text.isdigit() or not _TIME_DIGITS + 2 <= len(text) <= 40:
            return None
        source = int(text[_TIME_DIGITS])
        if source not in (FOLLOWS, REPLIES, REACTIONS, MENTIONS):
            return None
        ref_id = int(text[_TIME_DIGITS + 1 :])
        if ref_id > MAX_ROW_ID:  # names no row (and PostgreSQL would refuse it in a query)
            return None
        try:
            at = _ZERO + int(text[:_TIME_DIGITS]) * _MICROSECOND
        except OverflowError:  # beyond year 9999
            return None
        return cls(at, source, ref_id)


@dataclass(frozen=True)
class Selection:
    """Which notifications to read, beyond `since` and `before`: some kinds, from one actor,
    before or after a key (paging by id), or exactly one."""

    kinds: frozenset[str] | None = None  # None: every kind
    from_actor_id: int | None = None
    older_than: NotificationKey | None = None
    newer_than: NotificationKey | None = None
    exactly: NotificationKey | None = None


EVERYTHING = Selection()


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
    key: NotificationKey
    # The member's post that was replied to, answered, liked or announced; for a mention, the
    # post that mentions the member; None for follows.
    post: PostRef | None = None
    reply_uri: str | None = None  # reply, answer, interest: the reply itself
    reply_id: int | None = None
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
        literal_column(str(FOLLOWS)).label("source"),
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
            literal_column(str(REPLIES)),
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
    reactions = edges(REACTIONS).where(
        post.author_id == actor_id,
        post.deleted_at.is_(None),
        Interaction.kind.in_(("like", "announce")),
        Interaction.actor_id != actor_id,
    )
    mentions = edges(MENTIONS).where(
        Interaction.target_actor_id == actor_id,
        Interaction.kind == "mention",
        Interaction.actor_id != actor_id,
        post.author_id != actor_id,
        post.deleted_at.is_(None),
        or_(post.in_reply_to_uri.is_(None), post.in_reply_to_uri.not_in(my_posts)),
    )
    return union_all(follows, replies, reactions, mentions)


def _dismissed(rows: Subquery, actor_id: int) -> ColumnElement[bool]:
    return exists().where(
        NotificationDismissal.actor_id == actor_id,
        NotificationDismissal.source == rows.c.source,
        NotificationDismissal.ref_id == rows.c.ref_id,
        NotificationDismissal.at == rows.c.at,
    )


def _older(rows: Subquery, key: NotificationKey) -> ColumnElement[bool]:
    """Before `key` in the order of keys (at, source, ref_id), written out for every backend."""
    same_at = and_(
        rows.c.at == key.at,
        or_(rows.c.source < key.source, and_(rows.c.source == key.source, rows.c.ref_id < key.ref_id)),
    )
    return or_(rows.c.at < key.at, same_at)


def _newer(rows: Subquery, key: NotificationKey) -> ColumnElement[bool]:
    same_at = and_(
        rows.c.at == key.at,
        or_(rows.c.source > key.source, and_(rows.c.source == key.source, rows.c.ref_id > key.ref_id)),
    )
    return or_(rows.c.at > key.at, same_at)


def _selected(rows: Subquery, selection: Selection) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if selection.kinds is not None:
        conditions.append(rows.c.kind.in_(sorted(selection.kinds)))
    if selection.from_actor_id is not None:
        conditions.append(rows.c.who_id == selection.from_actor_id)
    if selection.older_than is not None:
        conditions.append(_older(rows, selection.older_than))
    if selection.newer_than is not None:
        conditions.append(_newer(rows, selection.newer_than))
    if (key := selection.exactly) is not None:
        conditions += [rows.c.at == key.at, rows.c.source == key.source, rows.c.ref_id == key.ref_id]
    return conditions


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
    conditions: list[ColumnElement[bool]] = [~_dismissed(rows, actor.id)]
    if since is not None:
        conditions.append(rows.c.at > since)
    if before is not None:
        conditions.append(rows.c.at < before)
    hidden = await hidden_domains(session, config)
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
    selection: Selection = EVERYTHING,
    oldest_first: bool = False,
) -> list[Notification]:
    """The member's notifications, newest first (or oldest first): at most `limit` (capped at
    MAX_LIMIT), older than `before`, newer than `since`, and as `selection` says. The next page
    is `before=<the last one's at>` (two notifications of the very same microsecond across a
    page boundary would lose the second; `Selection.older_than` a key loses none).
    `config` is needed for the blocks it declares (`federation.blocked_domains`)."""
    limit = max(0, min(limit, MAX_LIMIT))
    if limit == 0:
        return []
    rows, who, conditions = await _filtered(session, config, actor, since, before)
    post, reply = aliased(Object), aliased(Object)
    order = (rows.c.at, rows.c.source, rows.c.ref_id)
    query = (
        select(rows.c.kind, rows.c.source, rows.c.ref_id, rows.c.at, who, post, reply)
        .join(who, who.id == rows.c.who_id)
        .outerjoin(post, post.id == rows.c.post_id)
        .outerjoin(reply, reply.id == rows.c.reply_id)
        .where(*conditions, *_selected(rows, selection))
        .order_by(*(column.asc() if oldest_first else column.desc() for column in order))
        .limit(limit)
    )
    result = await session.execute(query)
    return [
        _notification(kind, NotificationKey(at, int(source), int(ref_id)), other, concerned, answer)
        for kind, source, ref_id, at, other, concerned, answer in result
    ]


async def notification(
    session: AsyncSession, actor: Actor, key: NotificationKey, *, config: Config
) -> Notification | None:
    """The member's notification with that key, unless it is gone, hidden or dismissed."""
    found = await notifications_for(session, actor, config=config, limit=1, selection=Selection(exactly=key))
    return found[0] if found else None


async def dismiss(session: AsyncSession, actor: Actor, key: NotificationKey, *, config: Config) -> bool:
    """Dismiss one of the member's notifications; False when they have none with that key."""
    if await notification(session, actor, key, config=config) is None:
        return False
    session.add(NotificationDismissal(actor_id=actor.id, source=key.source, ref_id=key.ref_id, at=key.at))
    await session.flush()
    return True


async def clear(session: AsyncSession, actor: Actor) -> None:
    """Dismiss every notification the member has now, in one statement (new ones still come)."""
    rows = _sources(actor.id).subquery("notifications")
    current = select(literal(actor.id, Integer), rows.c.source, rows.c.ref_id, rows.c.at).where(
        ~_dismissed(rows, actor.id)
    )
    columns = ["actor_id", "source", "ref_id", "at"]
    await session.execute(insert(NotificationDismissal).from_select(columns, current))


async def unread_count(
    session: AsyncSession, actor: Actor, seen_at: datetime | None, *, config: Config
) -> int:
    """How many notifications are newer than `seen_at` (all of them when it is None)."""
    rows, who, conditions = await _filtered(session, config, actor, seen_at, None)
    query = select(func.count()).select_from(rows).join(who, who.id == rows.c.who_id).where(*conditions)
    return int(await session.scalar(query) or 0)


def _notification(
    kind: str, key: NotificationKey, other: Actor, post: Object | None, reply: Object | None
) -> Notification:
    excerpt = None
    if reply is not None:
        excerpt = plain_excerpt(reply.content or reply.summary or reply.name)
    elif kind == "mention" and post is not None:
        excerpt = plain_excerpt(post.content or post.summary or post.name)
    return Notification(
        kind=kind,
        at=key.at,
        key=key,
        who=Who(
            id=other.id,
            display_name=other.display_name or other.username,
            handle=other.handle,
            url=other.url or other.uri,
            local=other.local,
        ),
        post=_post_ref(post) if post is not None else None,
        reply_uri=reply.uri if reply is not None else None,
        reply_id=reply.id if reply is not None else None,
        excerpt=excerpt,
    )


def _post_ref(post: Object) -> PostRef:
    title = post.name or plain_excerpt(post.content or post.summary, TITLE_CHARS)
    return PostRef(id=post.id, uri=post.uri, url=post.url or post.uri, title=title, kind=post.kind)
