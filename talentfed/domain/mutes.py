"""Muting accounts (Mastodon's Mute): a member mutes an account, and while the mute lasts the
account's posts and reblogs leave the member's timelines, thread views and search, and with
`notifications` (the default, as on Mastodon) its notifications too. A mute may last a number
of seconds (`duration`; 0 is for ever), after which it is read as gone. Private to the member:
nothing is federated, and the muted account still reads the member's posts.

Which reads leave muted accounts out is `domain/visibility.py` (`wanted_by`) and
`domain/notifications.py`; both ask `muting` here, the one rule of when a mute stands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.errors import FieldError
from talentfed.storage.models import AccountMute, Actor, utcnow

MAX_DURATION = 10 * 365 * 86_400  # seconds: ten years, far within any date a database keeps


class MuteError(FieldError):
    """A mute refused; names the field (`account`, `duration`)."""


def _standing(now: datetime | None = None) -> ColumnElement[bool]:
    """A condition on `AccountMute`: it has not expired."""
    return or_(AccountMute.expires_at.is_(None), AccountMute.expires_at > (now or utcnow()))


def muting(member_id: Any, author: Any, *, notifications: bool = False) -> ColumnElement[bool]:
    """A condition: `member_id` mutes `author` (ids or columns) now; with `notifications`, only
    mutes that hide notifications count."""
    conditions = [AccountMute.actor_id == member_id, AccountMute.muted_id == author, _standing()]
    if notifications:
        conditions.append(AccountMute.notifications.is_(True))
    return exists().where(*conditions)


def check_duration(duration: int) -> timedelta | None:
    """How long a mute lasts (None: for ever); refuses what is negative or beyond MAX_DURATION."""
    if duration < 0 or duration > MAX_DURATION:
        raise MuteError("duration", f"must be 0 (for ever) or a number of seconds up to {MAX_DURATION}")
    return timedelta(seconds=duration) if duration else None


async def mute(
    session: AsyncSession, member: Actor, target: Actor, *, notifications: bool = True, duration: int = 0
) -> AccountMute:
    """Mute `target`; muting again takes the new settings (as Mastodon's MuteService)."""
    if member.id == target.id:
        raise MuteError("account", "an account cannot mute itself")
    lasts = check_duration(duration)
    found = await _row(session, member.id, target.id)
    if found is None:
        found = AccountMute(actor_id=member.id, muted_id=target.id)
        session.add(found)
    found.notifications = notifications
    found.expires_at = utcnow() + lasts if lasts else None
    await session.flush()
    return found


async def unmute(session: AsyncSession, member: Actor, target: Actor) -> bool:
    """Lift the mute of `target` (an expired one goes too); whether one stood."""
    found = await _row(session, member.id, target.id)
    if found is None:
        return False
    standing = found.expires_at is None or found.expires_at > utcnow()
    await session.delete(found)
    await session.flush()
    return standing


async def _row(session: AsyncSession, member_id: int, other_id: int) -> AccountMute | None:
    return await session.scalar(
        select(AccountMute).where(AccountMute.actor_id == member_id, AccountMute.muted_id == other_id)
    )


async def mute_of(session: AsyncSession, member_id: int, other_id: int) -> AccountMute | None:
    """The member's mute of `other_id` that stands now, if any."""
    return await session.scalar(
        select(AccountMute).where(
            AccountMute.actor_id == member_id, AccountMute.muted_id == other_id, _standing()
        )
    )


def muted_rows(member_id: int) -> Select[Actor, AccountMute]:
    """(account, mute) of the mutes of `member_id` that stand, in any order (callers page by
    `AccountMute.id`)."""
    return (
        select(Actor, AccountMute)
        .join(AccountMute, AccountMute.muted_id == Actor.id)
        .where(AccountMute.actor_id == member_id, _standing())
    )
