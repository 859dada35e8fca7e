"""Who blocks whom (Mastodon's Block between accounts): the one home of the block relation.

A row of `account_blocks` says that `blocker_id` blocks `blocked_id`: one of our members
blocking someone, or a remote actor's Block of one of our members received here. While it
stands no follow between the two is made (`refuse_follow_if_blocked`, asked by
`following.start_following` and the inbox's Follow handler); who may read whose posts is
`domain/visibility.py`, which reads `blocking`. What making a block does (ending follows) is
`federation/blocking.py`.

This lives in federation/ because the inbox applies received Blocks and refuses Follows
without reaching the domain layer; members block through `domain/member_blocks.py`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.dialects import among
from talentfed.storage.models import AccountBlock, Actor


class FollowBlocked(ValueError):
    """A follow between two accounts where one blocks the other."""


def blocking(blocker: Any, blocked: Any) -> ColumnElement[bool]:
    """A condition: `blocker` blocks `blocked` (ids or columns holding them)."""
    return exists().where(AccountBlock.blocker_id == blocker, AccountBlock.blocked_id == blocked)


async def find_block(session: AsyncSession, blocker_id: int, blocked_id: int) -> AccountBlock | None:
    query = select(AccountBlock).where(
        AccountBlock.blocker_id == blocker_id, AccountBlock.blocked_id == blocked_id
    )
    return await session.scalar(query)


async def either_blocks(session: AsyncSession, one_id: int, other_id: int) -> bool:
    either = or_(
        and_(AccountBlock.blocker_id == one_id, AccountBlock.blocked_id == other_id),
        and_(AccountBlock.blocker_id == other_id, AccountBlock.blocked_id == one_id),
    )
    return await session.scalar(select(AccountBlock.id).where(either).limit(1)) is not None


async def blocks_among(session: AsyncSession, some: set[int], others: set[int]) -> set[frozenset[int]]:
    """The pairs of one of `some` and one of `others` between which a block stands, either way:
    one query for a batch of follows (`following.note_follows`)."""
    if not some or not others:
        return set()
    either = or_(
        and_(among(session, AccountBlock.blocker_id, some), among(session, AccountBlock.blocked_id, others)),
        and_(among(session, AccountBlock.blocker_id, others), among(session, AccountBlock.blocked_id, some)),
    )
    rows = await session.execute(select(AccountBlock.blocker_id, AccountBlock.blocked_id).where(either))
    return {frozenset(row) for row in rows}


async def refuse_follow_if_blocked(session: AsyncSession, follower: Actor, target: Actor) -> None:
    if await either_blocks(session, follower.id, target.id):
        raise FollowBlocked(f"a block stands between {follower.handle} and {target.handle}")
