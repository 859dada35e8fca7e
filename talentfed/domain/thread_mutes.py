"""Muted threads (Mastodon's conversation mute): a member mutes the thread a post belongs to,
and while it is muted, notifications from it are not shown (domain/notifications.py asks
`muted_after`). Private to the member: nothing is federated.

A thread is named by the `context_uri` its posts share (ours set it to their first post's uri;
other servers send their conversation as `context`), or, for a first post, by its own uri. A
notification about a member's post (a reply to it, a like, a boost) is in that post's thread; a
mention, in the mentioning post's. As on Mastodon, notifications from before the mute stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.dialects import insert_or_ignore
from talentfed.storage.models import Actor, Object, ThreadMute


def thread_of(post: Object) -> str:
    return post.context_uri or post.uri


def _thread(post: Any) -> ColumnElement[str]:
    """`thread_of` as SQL, on `Object` or an alias of it."""
    return func.coalesce(post.context_uri, post.uri)


async def mute(session: AsyncSession, member: Actor, post: Object) -> None:
    """Mute the post's thread; muting it again changes nothing (it keeps its first time)."""
    unique = ["actor_id", "thread_uri"]
    await session.execute(
        insert_or_ignore(session, ThreadMute, unique, actor_id=member.id, thread_uri=thread_of(post))
    )


async def unmute(session: AsyncSession, member: Actor, post: Object) -> None:
    await session.execute(
        delete(ThreadMute).where(ThreadMute.actor_id == member.id, ThreadMute.thread_uri == thread_of(post))
    )


async def muted_posts(session: AsyncSession, actor_id: int, posts: Sequence[Object]) -> set[int]:
    """The ids of those `posts` whose thread the member muted (a status's `muted`)."""
    threads = {thread_of(post) for post in posts}
    if not threads:
        return set()
    query = select(ThreadMute.thread_uri).where(
        ThreadMute.actor_id == actor_id, ThreadMute.thread_uri.in_(threads)
    )
    muted = set(await session.scalars(query))
    return {post.id for post in posts if thread_of(post) in muted}


def muted_after(actor_id: int, post: Any, at: ColumnElement[Any]) -> ColumnElement[bool]:
    """A condition: `post` (an `Object` alias) is in a thread the member muted before `at`."""
    return exists().where(
        and_(
            ThreadMute.actor_id == actor_id,
            ThreadMute.thread_uri == _thread(post),
            ThreadMute.created_at <= at,
        )
    )
