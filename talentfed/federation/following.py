"""Starting and ending a follow: the edge and the activity it takes, in the caller's transaction.

The one place a follow is made or dropped, for members asking (`domain/follows.py`) and for
followers carried over by a Move (`federation/moves.py`, which the inbox runs and which cannot
reach the domain layer). A local target gets the edge at once; a remote one gets a Follow, and
the edge stays pending until its Accept; dropping a remote follow sends Undo(Follow). A follow
between two accounts where one blocks the other is refused (`account_blocks.FollowBlocked`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation import account_blocks, activities, outbox
from talentfed.storage.models import Actor, Follow, utcnow


async def find_follow(session: AsyncSession, follower: Actor, target: Actor) -> Follow | None:
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == target.id)
    )


async def start_following(session: AsyncSession, config: Config, follower: Actor, target: Actor) -> Follow:
    """The follow of `target` by `follower`: kept when it stands, else made (or asked again);
    raises `account_blocks.FollowBlocked` when either blocks the other."""
    await account_blocks.refuse_follow_if_blocked(session, follower, target)
    existing = await find_follow(session, follower, target)
    if existing is not None and (existing.state == "accepted" or target.local):
        return existing
    if target.local:
        state = "pending" if target.manually_approves_followers else "accepted"
        edge = Follow(follower_id=follower.id, followed_id=target.id, state=state)
        edge.accepted_at = utcnow() if state == "accepted" else None
        session.add(edge)
        await session.flush()
        return edge
    document = activities.follow(config, follower, target)
    if existing is None:
        existing = Follow(follower_id=follower.id, followed_id=target.id, state="pending")
        session.add(existing)
    existing.uri = document["id"]  # a repeated request is a new Follow with a new id
    await session.flush()
    await outbox.send(session, config, follower, document, [target], shared_inbox=False)
    return existing


async def stop_following(
    session: AsyncSession, config: Config, edge: Follow, follower: Actor, target: Actor
) -> None:
    """Drop `edge` (the follow of `target` by `follower`); a remote target is told by Undo."""
    follow_uri = edge.uri
    await session.delete(edge)
    await session.flush()
    if not target.local and follow_uri:
        document = activities.undo_follow(config, follower, target, follow_uri)
        await outbox.send(session, config, follower, document, [target], shared_inbox=False)


async def drop_follow(
    session: AsyncSession, config: Config, edge: Follow, follower: Actor, target: Actor
) -> None:
    """Drop `edge` from whichever side is ours, as Mastodon does when a block ends it: our
    member's follow of a remote actor is undone (Undo), a remote actor's follow of our member
    is refused (Reject); between two members nothing is sent."""
    if follower.local:
        await stop_following(session, config, edge, follower, target)
        return
    follow_uri = edge.uri
    await session.delete(edge)
    await session.flush()
    if follow_uri:
        await outbox.answer_follow(session, config, "Reject", target, follower, follow_uri)
