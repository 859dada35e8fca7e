"""What a block does, made or lifted, by one of our members or received from another server.

Making one ends the follows between the two accounts (the remote side is told: Undo of our
member's follow, Reject of theirs, as Mastodon's BlockService and its Block handler do) and
keeps the block with its activity's id; lifting one removes it. Sending the Block itself is
the caller's part (`domain/member_blocks.py`): a received one has been sent already.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.account_blocks import find_block
from talentfed.federation.following import drop_follow
from talentfed.storage.models import AccountBlock, Actor, Follow


async def record_block(
    session: AsyncSession, config: Config, blocker: Actor, blocked: Actor, uri: str | None
) -> AccountBlock:
    """`blocker` blocks `blocked`; blocking again keeps the block and takes the newer id."""
    await _end_follows(session, config, blocker, blocked)
    block = await find_block(session, blocker.id, blocked.id)
    if block is None:
        block = AccountBlock(blocker_id=blocker.id, blocked_id=blocked.id)
        session.add(block)
    block.uri = uri or block.uri
    await session.flush()
    return block


async def lift_block(session: AsyncSession, blocker: Actor, blocked: Actor) -> AccountBlock | None:
    """Remove the block of `blocked` by `blocker`; the block that was lifted, if any."""
    block = await find_block(session, blocker.id, blocked.id)
    if block is not None:
        await session.delete(block)
        await session.flush()
    return block


async def _end_follows(session: AsyncSession, config: Config, one: Actor, other: Actor) -> None:
    between = or_(
        and_(Follow.follower_id == one.id, Follow.followed_id == other.id),
        and_(Follow.follower_id == other.id, Follow.followed_id == one.id),
    )
    for edge in list(await session.scalars(select(Follow).where(between))):
        follower, target = (one, other) if edge.follower_id == one.id else (other, one)
        await drop_follow(session, config, edge, follower, target)
