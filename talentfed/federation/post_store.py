"""Storing remote posts: an `IncomingPost` (from `post_reader`) becomes an `Object` row.

`store_post` inserts or updates the row. It neither fetches nor resolves anything over the
network; the caller has already resolved the author. Which kind a reply becomes is the rule in
`talentfed.kinds`.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed import kinds
from talentfed.federation.as_values import datetime_of
from talentfed.federation.limits import MAX_POST_MEDIA
from talentfed.federation.post_edits import forget_edits, record_edit, version_of
from talentfed.federation.post_reader import IncomingPost, visibility_of
from talentfed.federation.post_terms import FIELDS as TERM_FIELDS
from talentfed.federation.post_terms import set_term_values
from talentfed.storage.db import rowcount
from talentfed.storage.dialects import among
from talentfed.storage.models import Actor, MediaAttachment, Object, utcnow

__all__ = [
    "IngestError",
    "actor_id_named",
    "forget_lookups",
    "forget_posts",
    "note_absent_posts",
    "note_named",
    "post_named",
    "store_post",
]

ABSENT_POSTS = "talentfed.absent_posts"  # session.info key: uris known not to be stored
# session.info keys of what a group commit's activities name, looked up once for the batch
# (`note_named`): the posts replied to, liked or boosted (uri -> row or None, and the posts
# the batch creates), the actors mentioned (uri -> id or None).
NAMED_POSTS = "talentfed.named_posts"
NAMED_ACTORS = "talentfed.named_actors"


class IngestError(Exception):
    """A remote post cannot be stored; the text says why."""


def _host(uri: str | None) -> str:
    return urlsplit(uri or "").netloc.lower()


def _check_author(post: IncomingPost, author: Actor, existing: Object | None) -> None:
    if author.local:
        raise IngestError(f"{author.uri} is a local actor: its posts are not ingested")
    if post.attributed_to and post.attributed_to != author.uri:
        raise IngestError(f"{post.uri} is attributed to {post.attributed_to}, not {author.uri}")
    if _host(post.uri) != _host(author.uri):
        raise IngestError(f"{post.uri} is not on the host of its author {author.uri}")
    if existing is None:
        return
    if existing.local:
        raise IngestError(f"{post.uri} is a local object")
    if existing.author_id != author.id:
        raise IngestError(f"{post.uri} belongs to another actor; {author.uri} cannot update it")
    if existing.deleted_at is not None:
        raise IngestError(f"{post.uri} was deleted")


async def _stored_kind(session: AsyncSession, post: IncomingPost) -> str:
    if not post.in_reply_to or post.kind in kinds.STRUCTURED_KINDS:
        return post.kind  # no need to look the parent up
    parent = await post_named(session, post.in_reply_to)
    return kinds.kind_of_reply(post.kind, parent.kind if parent is not None else None)


def _extra(post: IncomingPost, previous: dict[str, Any] | None) -> dict[str, Any]:
    """What a remote post keeps in `extra` besides its terms (set_term_values writes those)."""
    extra = dict(previous or {})
    extra.pop("attachments", None)  # kept before media_attachments (migration 0012)
    extra["mentions"] = [{"href": href, "name": post.mention_names.get(href, "")} for href in post.mentions]
    return extra


def _fill(row: Object, post: IncomingPost, author: Actor, kind: str) -> None:
    row.type = post.type
    row.kind = kind
    row.author_id = author.id
    row.local = False
    row.in_reply_to_uri = post.in_reply_to
    row.context_uri = post.context
    row.url = post.url
    row.name = post.name
    row.summary = post.summary
    row.content = post.content
    row.language = post.language
    # The author's real followers collection beats the reader's guess.
    row.visibility = visibility_of(post.to, post.cc, author.followers_url, post.attributed_to)
    row.sensitive = post.sensitive
    row.tags = list(post.tags)
    row.extra = _extra(post, row.extra)
    set_term_values(row, {name: getattr(post, name) for name in TERM_FIELDS})
    row.document = copy.deepcopy(dict(post.document))


async def store_post(
    session: AsyncSession, post: IncomingPost, author: Actor, *, keep_media: bool = True
) -> Object:
    """Insert or update the stored copy of a remote post (added, not flushed: a new row has
    its id after the session's next flush).

    `author` is the resolved actor of `post.attributed_to` (it must match when the
    document names one, and live on the post's host). An update must come from the
    actor who owns the row, keeps `published`, and sets `updated`; an update older than
    the stored one is ignored. Deleted and local objects are never overwritten. An update that
    changes what readers see keeps the replaced version (`post_edits.record_edit`). Without
    `keep_media` (the author's domain rejects media: `federation/blocks.py`) no attachment is
    kept. Raises `IngestError`.
    """
    known_absent = post.uri in session.info.get(ABSENT_POSTS, ())
    existing = None if known_absent else await _stored_post(session, post.uri)
    _check_author(post, author, existing)
    kind = await _stored_kind(session, post)
    if existing is None:
        row = Object(uri=post.uri, published=post.published or utcnow(), updated=post.updated)
        session.add(row)
        _fill(row, post, author, kind)
        named = session.info.get(NAMED_POSTS)
        if named is not None:  # a later activity of the batch may name it
            named[post.uri] = row
    else:
        if _older_than_stored(post, existing):
            return existing  # a late delivery of an older version
        row, before, edited = existing, version_of(existing), post.updated or utcnow()
        row.updated = edited
        _fill(row, post, author, kind)
        record_edit(session, row, before, edited)
    kept = post if keep_media else dataclasses.replace(post, attachments=())
    await _store_media(session, row, kept, author, replace=existing is not None)
    if kind == kinds.QUESTION:
        await _promote_answers(session, post.uri)
    return row


async def _store_media(
    session: AsyncSession, row: Object, post: IncomingPost, author: Actor, *, replace: bool
) -> None:
    """The post's attachments as `media_attachments` rows (links only: nothing is downloaded);
    an update replaces them. A new post has no id yet: the rows name it through `post`."""
    if replace:
        await session.execute(delete(MediaAttachment).where(MediaAttachment.object_id == row.id))
    for position, attachment in enumerate(post.attachments[:MAX_POST_MEDIA]):
        session.add(
            MediaAttachment(
                post=row,
                actor_id=author.id,
                position=position,
                type=media_kind(attachment.media_type),
                media_type=attachment.media_type,
                remote_url=attachment.url,
                description=attachment.name,
                blurhash=attachment.blurhash,
                width=attachment.width,
                height=attachment.height,
                focus_x=attachment.focus[0] if attachment.focus else None,
                focus_y=attachment.focus[1] if attachment.focus else None,
            )
        )


def media_kind(media_type: str | None) -> str:
    """Mastodon's type of an attachment from its MIME type: image, video, audio or unknown."""
    kind = (media_type or "").split("/")[0]
    return kind if kind in ("image", "video", "audio") else "unknown"


async def forget_posts(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    """Tombstone the stored copies of other servers' posts matching `where` (conditions on
    `Object`): their author deleted them, or a moderator removed them here. The text and its
    past versions go; the row stays, so the post's id answers "deleted". Returns how many."""
    alive = (*where, Object.deleted_at.is_(None))
    await forget_edits(session, *alive)
    result = await session.execute(
        update(Object).where(*alive).values(deleted_at=utcnow(), content=None, name=None, summary=None)
    )
    return rowcount(result)


async def note_absent_posts(session: AsyncSession, uris: list[str]) -> None:
    """Look up at once which of `uris` are not stored, so `store_post` need not ask for each
    (a group commit stores many posts in one transaction)."""
    query = select(Object.uri).where(among(session, Object.uri, uris))
    stored = set(await session.scalars(query)) if uris else set()
    session.info[ABSENT_POSTS] = {uri for uri in uris if uri not in stored}


async def note_named(session: AsyncSession, post_uris: set[str], actor_uris: set[str]) -> None:
    """Look up at once what a batch's activities name (the posts they reply to, like or boost;
    the actors they mention), so that no activity asks for its own."""
    posts: dict[str, Object | None] = dict.fromkeys(post_uris)
    if post_uris:
        for row in await session.scalars(select(Object).where(among(session, Object.uri, post_uris))):
            posts[row.uri] = row
    actors: dict[str, int | None] = dict.fromkeys(actor_uris)
    if actor_uris:
        for uri, actor_id in await session.execute(
            select(Actor.uri, Actor.id).where(among(session, Actor.uri, actor_uris))
        ):
            actors[uri] = actor_id
    session.info.update({NAMED_POSTS: posts, NAMED_ACTORS: actors})


def forget_lookups(session: AsyncSession) -> None:
    """Rows were deleted in this transaction: what the batch looked up may be gone, and the
    rest of it asks the database."""
    for key in (NAMED_POSTS, NAMED_ACTORS):
        session.info.pop(key, None)


async def post_named(session: AsyncSession, uri: str) -> Object | None:
    """The stored post `uri`: as the batch looked it up or created it, else from the database."""
    named: dict[str, Object | None] | None = session.info.get(NAMED_POSTS)
    if named is not None and uri in named:
        return named[uri]
    return await session.scalar(select(Object).where(Object.uri == uri))


async def actor_id_named(session: AsyncSession, uri: str) -> int | None:
    """The id of the stored actor `uri`: as the batch looked it up, else from the database."""
    named: dict[str, int | None] | None = session.info.get(NAMED_ACTORS)
    if named is not None and uri in named:
        return named[uri]
    return await session.scalar(select(Actor.id).where(Actor.uri == uri))


async def _stored_post(session: AsyncSession, uri: str) -> Object | None:
    # Without autoflush: rows other writes of this transaction added are not needed to answer
    # "is this uri stored?" (a second insert of one uri fails the unique index at flush, and a
    # group commit then reruns the writes one by one), and not flushing here lets one flush
    # insert the posts of a whole batch.
    named: dict[str, Object | None] | None = session.info.get(NAMED_POSTS)
    if named is not None and uri in named:  # looked up with the batch (an Update's post)
        row = named[uri]
        return None if row is None or inspect(row).pending else row
    with session.no_autoflush:
        # The id alone first: a new post (the usual case) needs no row loaded.
        stored_id = await session.scalar(select(Object.id).where(Object.uri == uri))
        return await session.get(Object, stored_id) if stored_id is not None else None


def _older_than_stored(post: IncomingPost, existing: Object) -> bool:
    """Compares the sender's own `updated` stamps: ours (set when one is missing) may be skewed."""
    stored = datetime_of((existing.document or {}).get("updated"))
    return bool(post.updated and stored and post.updated < stored)


async def _promote_answers(session: AsyncSession, question_uri: str) -> None:
    """Replies that arrived before their question become answers now."""
    await session.execute(
        update(Object)
        .where(
            Object.in_reply_to_uri == question_uri,
            Object.local.is_(False),
            Object.kind.not_in(kinds.STRUCTURED_KINDS | {kinds.ANSWER}),
        )
        .values(kind=kinds.ANSWER)
        .execution_options(synchronize_session="fetch")
    )
