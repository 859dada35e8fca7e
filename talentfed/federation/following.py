"""Starting and ending a follow: the edge and the activity it takes, in the caller's transaction.

The one place a follow is made or dropped, for members asking (`domain/follows.py`) and for
followers carried over by a Move (`federation/moves.py`, which the inbox runs and which cannot
reach the domain layer). A local target gets the edge at once; a remote one gets a Follow, and
the edge stays pending until its Accept; dropping a remote follow sends Undo(Follow). A follow
between two accounts where one blocks the other is refused (`account_blocks.FollowBlocked`).

The inbox's Follows and Undos of a follow run many to a transaction (`storage/group_commit.py`):
what they name (the member followed, the edge, a block between the two) is looked up once for
the batch (`note_follows`), as `post_store.note_named` does for posts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation import account_blocks, activities, outbox
from talentfed.storage.dialects import among
from talentfed.storage.models import Actor, Follow, utcnow

FOLLOW_LOOKUPS = "talentfed.follow_lookups"  # session.info key: a batch's `FollowLookups`


@dataclass
class FollowLookups:
    """What a batch's Follows and Undo(Follow)s name, as the transaction found it at its start
    and as their handlers changed it since (`note_edge`)."""

    members: dict[str, Actor | None]  # uri -> our member (None: not one of ours)
    edges: dict[tuple[int, int], Follow | None]  # (sender id, member id) -> the edge, every pair
    undone: set[str]  # the Follow ids the batch's Undos name
    by_uri: dict[str, Follow]  # edges by the id of their Follow: those of `undone`, and new ones
    blocked: set[frozenset[int]]  # the (sender, member) pairs between which a block stands

    def covers(self, one_id: int, other_id: int) -> bool:
        return (one_id, other_id) in self.edges or (other_id, one_id) in self.edges


async def note_follows(
    session: AsyncSession, followed: set[str], undone: set[str], sender_ids: set[int]
) -> None:
    """Look up at once the members `followed` names, the edges between them and the batch's
    senders (and those whose Follow ids are `undone`), and the blocks between them."""
    rows = await session.scalars(
        select(Actor).where(among(session, Actor.uri, followed), Actor.local.is_(True))
    )
    members: dict[str, Actor | None] = dict.fromkeys(followed)
    members.update({member.uri: member for member in rows})
    member_ids = {member.id for member in members.values() if member is not None}
    edges: dict[tuple[int, int], Follow | None] = {
        (sender, member): None for sender in sender_ids for member in member_ids
    }
    by_uri: dict[str, Follow] = {}
    between = and_(
        among(session, Follow.follower_id, sender_ids), among(session, Follow.followed_id, member_ids)
    )
    for edge in await session.scalars(select(Follow).where(or_(between, among(session, Follow.uri, undone)))):
        if (edge.follower_id, edge.followed_id) in edges:
            edges[edge.follower_id, edge.followed_id] = edge
        if edge.uri in undone:
            by_uri[edge.uri] = edge
    blocked = await account_blocks.blocks_among(session, sender_ids, member_ids)
    session.info[FOLLOW_LOOKUPS] = FollowLookups(members, edges, set(undone), by_uri, blocked)


def forget_follow_lookups(session: AsyncSession) -> None:
    """Follows or blocks changed in this transaction other than through `on_follow`/`on_undo`
    (a Block, a Reject, a Move, a deleted actor): the rest of the batch asks the database."""
    session.info.pop(FOLLOW_LOOKUPS, None)


def _lookups(session: AsyncSession) -> FollowLookups | None:
    lookups: FollowLookups | None = session.info.get(FOLLOW_LOOKUPS)
    return lookups


def _live(session: AsyncSession, edge: Follow | None) -> Follow | None:
    """`edge`, unless it was deleted in this transaction."""
    if edge is None or edge in session.deleted or inspect(edge).was_deleted:
        return None
    return edge


async def member_named(session: AsyncSession, uri: str | None) -> Actor | None:
    """Our member `uri`: as the batch looked it up, else from the database."""
    if not uri:
        return None
    lookups = _lookups(session)
    if lookups is not None and uri in lookups.members:
        return lookups.members[uri]
    return await session.scalar(select(Actor).where(Actor.uri == uri, Actor.local.is_(True)))


async def block_stands(session: AsyncSession, one: Actor, other: Actor) -> bool:
    """Whether either of `one` and `other` blocks the other."""
    lookups = _lookups(session)
    if lookups is not None and lookups.covers(one.id, other.id):
        return frozenset((one.id, other.id)) in lookups.blocked
    return await account_blocks.either_blocks(session, one.id, other.id)


async def find_follow(session: AsyncSession, follower: Actor, target: Actor) -> Follow | None:
    lookups = _lookups(session)
    if lookups is not None and (follower.id, target.id) in lookups.edges:
        return _live(session, lookups.edges[follower.id, target.id])
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followed_id == target.id)
    )


async def follow_by_uri(session: AsyncSession, uri: str, follower: Actor) -> Follow | None:
    """The edge made by `follower`'s Follow `uri`."""
    lookups = _lookups(session)
    if lookups is not None and uri in lookups.undone:
        edge = _live(session, lookups.by_uri.get(uri))
        return edge if edge is not None and edge.uri == uri and edge.follower_id == follower.id else None
    return await session.scalar(select(Follow).where(Follow.uri == uri, Follow.follower_id == follower.id))


def note_edge(session: AsyncSession, follower: Actor, target: Actor, edge: Follow | None) -> None:
    """The edge between the two is now `edge` (made, or None: dropped), for the rest of the batch."""
    lookups = _lookups(session)
    if lookups is None:
        return
    if (follower.id, target.id) in lookups.edges:
        lookups.edges[follower.id, target.id] = edge
    if edge is not None and edge.uri:
        lookups.by_uri[edge.uri] = edge


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
