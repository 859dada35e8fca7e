"""Publishing once per `Idempotency-Key`: an app that retries a post it is not sure went out
sends the same key, and gets the post that was made instead of a second one (Mastodon keeps a
key for an hour; so do we).

The key is claimed in the transaction that publishes (`idempotency_keys`, unique per member and
key). Of two requests at once, one inserts the key and publishes; the other's insert waits for
that transaction, inserts nothing, and reads the post the first one made. This holds across
processes: the database's unique index decides, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.posts import Draft, PostError
from talentfed.storage.dialects import insert_or_ignore
from talentfed.storage.models import NAME, Actor, IdempotencyKey, Object, utcnow

KEPT = timedelta(hours=1)
MAX_KEY = NAME.length or 255


def check_key(key: str) -> None:
    """Keys are short printable ASCII (apps send UUIDs); anything else is refused."""
    if len(key) > MAX_KEY:
        raise PostError("idempotency_key", f"at most {MAX_KEY} characters")
    if not (key.isascii() and key.isprintable()):
        raise PostError("idempotency_key", "printable ASCII characters only")


async def publish_once(
    session: AsyncSession,
    config: Config,
    author: Actor,
    draft: Draft,
    key: str,
    *,
    mentions: dict[str, Actor] | None = None,
) -> Object:
    """`posts.publish`, unless `author` published with `key` within the hour: then the post
    made then (which may have been deleted since), and nothing is published."""
    check_key(key)
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.actor_id == author.id, IdempotencyKey.created_at < utcnow() - KEPT
        )
    )
    claimed = await session.scalar(
        insert_or_ignore(
            session, IdempotencyKey, ["actor_id", "key"], actor_id=author.id, key=key, created_at=utcnow()
        ).returning(IdempotencyKey.id)
    )
    if claimed is None:
        return await _made_with(session, author, key)
    post = await posts.publish(session, config, author, draft, mentions=mentions)
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.id == claimed).values(object_id=post.id)
    )
    return post


async def _made_with(session: AsyncSession, author: Actor, key: str) -> Object:
    made = await session.scalar(
        select(Object)
        .join(IdempotencyKey, IdempotencyKey.object_id == Object.id)
        .where(IdempotencyKey.actor_id == author.id, IdempotencyKey.key == key)
    )
    if made is None:  # a committed key names its post (one transaction); only a bug gets here
        raise RuntimeError(f"Idempotency-Key {key!r} of actor {author.id} names no post")
    return made
