"""Invitations and joining: how a new member gets an account.

Registration is closed by default: an admin makes a single-use invitation, whose link
carries a random token while the database keeps only its SHA-256. Joining creates the
member and marks the invitation used in one transaction, so a link works exactly once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.accounts import AccountError, check_password, hash_password
from talentfed.domain.members import NewMember, add_member, find_member
from talentfed.domain.stored_secrets import digest, new_secret
from talentfed.storage.models import Actor, Invitation, utcnow

ROLES = ("member", "admin")


async def create_invitation(
    session: AsyncSession, config: Config, *, created_by: Actor | None, role: str = "member", note: str = ""
) -> str:
    """A new single-use invitation; returns the token to put in the link (shown once)."""
    if role not in ROLES:
        raise AccountError("role", f"expected one of {', '.join(ROLES)}, got {role!r}")
    token = new_secret(24)
    session.add(
        Invitation(
            token_hash=digest(token),
            role=role,
            note=note.strip() or None,
            created_by_id=created_by.id if created_by else None,
            expires_at=utcnow() + timedelta(days=config.web.invitation_days),
        )
    )
    await session.flush()
    return token


async def open_invitation(session: AsyncSession, token: str) -> Invitation | None:
    """The invitation for this token if it can still be used (not used, not expired)."""
    if not token or len(token) > 128:
        return None
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    return invitation


async def pending_invitations(session: AsyncSession) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(Invitation.used_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc())
    )
    return list(await session.scalars(query))


async def revoke_invitation(session: AsyncSession, invitation_id: int) -> bool:
    """Withdraw an unused invitation; False when there is none to withdraw."""
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None or invitation.used_at is not None:
        return False
    await session.delete(invitation)
    await session.flush()
    return True


async def join(
    session: AsyncSession, config: Config, new: NewMember, password: str, *, invitation_token: str | None
) -> Actor:
    """Create a member who chose their own password: with an invitation, or when registration is open."""
    check_password(password)
    invitation = await open_invitation(session, invitation_token or "") if invitation_token else None
    if invitation_token and invitation is None:
        raise AccountError("invitation", "this invitation link has expired or was already used")
    if invitation is None and not config.web.open_registrations:
        raise AccountError("invitation", "this server is open by invitation only")
    role = invitation.role if invitation else "member"
    actor = await add_member(session, config, replace(new, role=role))
    _, user = await find_member(session, actor.username)
    user.password_hash = hash_password(password)
    if invitation is not None:
        invitation.used_at = utcnow()
        invitation.used_by_id = actor.id
    await session.flush()
    return actor
