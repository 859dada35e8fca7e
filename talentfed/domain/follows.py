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
from talentfed.federation import following as following_edges
from talentfed.federation import outbox
from talentfed.federation.account_blocks import FollowBlocked
from talentfed.storage.models import Actor, Follow, utcnow


class FollowError(ValueError):
    """A follow action that cannot be done; the text says why."""


@dataclass(frozen=True)
class FollowEdge:
    actor: Actor  # the other side
    state: str
    follow_uri: str | None


async def find_follow(session: AsyncSession, follower: Actor, target: Actor) -> Follow | None:
    return await following_edges.find_follow(session, follower, target)


async def follow(session: AsyncSession, config: Config, follower: Actor, target: Actor) -> Follow:
    """Follow `target`: at once when it is local, else by sending a Follow (pending until Accept)."""
    if follower.id == target.id:
        raise FollowError("an account cannot follow itself")
    try:
        return await following_edges.start_following(session, config, follower, target)
    except FollowBlocked as exc:
        raise FollowError(str(exc)) from None


async def unfollow(session: AsyncSession, config: Config, follower: Actor, target: Actor) -> None:
    edge = await find_follow(session, follower, target)
    if edge is None:
        raise FollowError(f"{follower.handle} does not follow {target.handle}")
    await following_edges.stop_following(session, config, edge, follower, target)


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
