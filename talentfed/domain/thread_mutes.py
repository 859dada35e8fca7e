"""Muted threads (Mastodon's conversation mute): a member mutes the thread a post belongs to,
and while it is muted, notifications from it are not shown (domain/notifications.py asks
`muted_after`). Private to the member: nothing is federated.

A thread is named by the `context_uri` its posts share (ours set it to their first post's uri;
other servers send their conversation as `context`), or by its first post's uri: a reply that
came without a `context` is in the thread of what it replies to. A notification about a
member's post (a reply to it, a like, a boost) is in that post's thread; a mention, in the
mentioning post's. As on Mastodon, notifications from before the mute stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.fact_rows import Fact, fact, read_facts
from talentfed.storage.dialects import insert_or_ignore
from talentfed.storage.models import Actor, Object, ThreadMute

MUTED_THREAD = "muted_thread"  # the `what` of its fact rows
MAX_DEPTH = 200  # replies walked up to find a thread's first post (as many as a context shows)


async def thread_of(session: AsyncSession, post: Object) -> str:
    """The thread `post` is in: its `context_uri`, else that of the first post it replies to,
    walking up the replies we hold; a post we do not hold names the thread by its uri."""
    seen = {post.uri}
    while post.context_uri is None and post.in_reply_to_uri and len(seen) < MAX_DEPTH:
        parent = await session.scalar(select(Object).where(Object.uri == post.in_reply_to_uri))
        if parent is None or parent.uri in seen:
            return post.in_reply_to_uri
        seen.add(parent.uri)
        post = parent
    return post.context_uri or post.uri


def _threads(post: Any) -> tuple[Any, Any]:
    """The names a post's thread may have (SQL on `Object` or an alias, or a row): its own
    (context or uri), and for a reply that came without a context, what it replies to."""
    if isinstance(post, Object):
        return post.context_uri or post.uri, post.in_reply_to_uri
    return func.coalesce(post.context_uri, post.uri), post.in_reply_to_uri


async def mute(session: AsyncSession, member: Actor, post: Object) -> None:
    """Mute the post's thread; muting it again changes nothing (it keeps its first time)."""
    thread = await thread_of(session, post)
    unique = ["actor_id", "thread_uri"]
    await session.execute(
        insert_or_ignore(session, ThreadMute, unique, actor_id=member.id, thread_uri=thread)
    )


async def unmute(session: AsyncSession, member: Actor, post: Object) -> None:
    thread = await thread_of(session, post)
    await session.execute(
        delete(ThreadMute).where(ThreadMute.actor_id == member.id, ThreadMute.thread_uri == thread)
    )


def muted_thread_facts(actor_id: int, posts: Sequence[Object]) -> list[Select[Any]]:
    """The query of which of these posts' threads the member muted, as `fact` rows
    (domain/fact_rows.py), to run with a page's other facts; `muted_from` reads them."""
    threads = {name for post in posts for name in _threads(post) if name}
    if not threads:
        return []
    return [
        fact(MUTED_THREAD, text=ThreadMute.thread_uri).where(
            ThreadMute.actor_id == actor_id, ThreadMute.thread_uri.in_(threads)
        )
    ]


def muted_from(posts: Sequence[Object], facts: Sequence[Fact]) -> set[int]:
    """The ids of those `posts` whose thread is muted (a status's `muted`), from the facts read."""
    muted = {row.text for row in facts if row.what == MUTED_THREAD}
    return {post.id for post in posts if muted.intersection(_threads(post))}


async def muted_posts(session: AsyncSession, actor_id: int, posts: Sequence[Object]) -> set[int]:
    """`muted_from`, reading its facts alone."""
    return muted_from(posts, await read_facts(session, muted_thread_facts(actor_id, posts)))


def muted_after(actor_id: int, post: Any, at: ColumnElement[Any]) -> ColumnElement[bool]:
    """A condition: `post` (an `Object` alias) is in a thread the member muted before `at`."""
    own, replied_to = _threads(post)
    return exists().where(
        ThreadMute.actor_id == actor_id,
        or_(ThreadMute.thread_uri == own, ThreadMute.thread_uri == replied_to),
        ThreadMute.created_at <= at,
    )
