"""Following: members follow people anywhere, and approve who follows them.

Functions take an open session and do not commit; the activities they send are
queued in the same transaction (see federation/outbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.visibility import not_hidden
from talentfed.federation import activities, outbox
from talentfed.storage.models import Actor, Follow, utcnow


class FollowError(ValueError):
    """A follow action that cannot be done; the text says why."""


@dataclass(frozen=True)
class FollowEdge:
    actor: Actor  # the other side
    state: str
    follow_uri: str | None


async def find_follow(session: AsyncSession, follower: Actor, target: Actor) -> Follow | None:
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == target.id)
    )


async def follow(session: AsyncSession, config: Config, follower: Actor, target: Actor) -> Follow:
    """Follow `target`: at once when it is local, else by sending a Follow (pending until Accept)."""
    if follower.id == target.id:
        raise FollowError("an account cannot follow itself")
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


async def unfollow(session: AsyncSession, config: Config, follower: Actor, target: Actor) -> None:
    edge = await find_follow(session, follower, target)
    if edge is None:
        raise FollowError(f"{follower.handle} does not follow {target.handle}")
    follow_uri = edge.uri
    await session.delete(edge)
    await session.flush()
    if not target.local and follow_uri:
        document = activities.undo_follow(config, follower, target, follow_uri)
        await outbox.send(session, config, follower, document, [target], shared_inbox=False)


async def answer_request(
    session: AsyncSession, config: Config, target: Actor, follower: Actor, *, accept: bool
) -> None:
    """Approve or refuse a pending follow request made to a member who approves by hand."""
    edge = await find_follow(session, follower, target)
    if edge is None or edge.state != "pending":
        raise FollowError(f"no pending follow request from {follower.handle} to {target.handle}")
    follow_uri = edge.uri
    if accept:
        edge.state, edge.accepted_at = "accepted", utcnow()
    else:
        await session.delete(edge)
    await session.flush()
    if follower.local or not follow_uri:
        return
    await outbox.answer_follow(
        session, config, "Accept" if accept else "Reject", target, follower, follow_uri
    )


def follower_rows(
    actor_id: int, *, state: str | None = None, hidden: list[str] | None = None
) -> Select[Actor, Follow]:
    """(follower, follow) of everyone who follows `actor_id`, in any order (callers page by
    `Follow.id`); leaves out actors on `hidden` domains (`visibility.hidden_domains`)."""
    query = (
        select(Actor, Follow)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followed_id == actor_id)
    )
    return _narrowed(query, state, hidden)


def following_rows(
    actor_id: int, *, state: str | None = None, hidden: list[str] | None = None
) -> Select[Actor, Follow]:
    """(followed, follow) of everyone `actor_id` follows; as `follower_rows`."""
    query = (
        select(Actor, Follow)
        .join(Follow, Follow.followed_id == Actor.id)
        .where(Follow.follower_id == actor_id)
    )
    return _narrowed(query, state, hidden)


def _narrowed(
    query: Select[Actor, Follow], state: str | None, hidden: list[str] | None
) -> Select[Actor, Follow]:
    if state:
        query = query.where(Follow.state == state)
    return query.where(not_hidden(Actor, hidden or []))


async def followers(session: AsyncSession, actor: Actor, *, state: str | None = None) -> list[FollowEdge]:
    rows = await session.execute(follower_rows(actor.id, state=state).order_by(Follow.id))
    return [FollowEdge(other, edge.state, edge.uri) for other, edge in rows]


async def following(session: AsyncSession, actor: Actor) -> list[FollowEdge]:
    rows = await session.execute(following_rows(actor.id).order_by(Follow.id))
    return [FollowEdge(other, edge.state, edge.uri) for other, edge in rows]
