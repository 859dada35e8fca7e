"""Members blocking accounts (Mastodon's BlockService and UnblockService).

A block ends the follows between the member and the account (`federation/blocking.py`), and
a remote account's server is sent a `Block` (an `Undo` of it when the member unblocks), so
that it can keep its account from reaching the member. What a block hides is
`domain/visibility.py` (posts) and `domain/notifications.py`; that no follow is made under a
block is `federation/account_blocks.py`.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.errors import FieldError
from talentfed.federation import activities, blocking, outbox
from talentfed.federation.account_blocks import find_block
from talentfed.storage.models import AccountBlock, Actor


class BlockError(FieldError):
    """A block refused; names the field (`account`)."""


async def block(session: AsyncSession, config: Config, member: Actor, target: Actor) -> AccountBlock:
    """`member` blocks `target`; blocking again changes nothing and sends nothing."""
    if member.id == target.id:
        raise BlockError("account", "an account cannot block itself")
    existing = await find_block(session, member.id, target.id)
    if existing is not None:
        return existing
    if target.local:
        return await blocking.record_block(session, config, member, target, None)
    document = activities.block(config, member, target)
    made = await blocking.record_block(session, config, member, target, document["id"])
    await outbox.send(session, config, member, document, [target], shared_inbox=False)
    return made


async def unblock(session: AsyncSession, config: Config, member: Actor, target: Actor) -> bool:
    """Lift the member's block of `target`, telling its server; whether one stood."""
    lifted = await blocking.lift_block(session, member, target)
    if lifted is None:
        return False
    if not target.local and lifted.uri:
        document = activities.undo_block(config, member, target, lifted.uri)
        await outbox.send(session, config, member, document, [target], shared_inbox=False)
    return True


def blocked_rows(member_id: int) -> Select[Actor, AccountBlock]:
    """(account, block) of the accounts `member_id` blocks, in any order (callers page by
    `AccountBlock.id`)."""
    return (
        select(Actor, AccountBlock)
        .join(AccountBlock, AccountBlock.blocked_id == Actor.id)
        .where(AccountBlock.blocker_id == member_id)
    )
