"""Sign-in accounts: passwords, hashed with argon2id.

argon2-cffi's defaults follow RFC 9106's second recommended setting; a hash made with
older parameters is replaced on the next sign-in.
"""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.errors import FieldError
from talentfed.domain.members import USERNAME_RULE
from talentfed.storage.models import Actor, User

MIN_PASSWORD = 10
MAX_PASSWORD = 1024

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the account does not exist, so a wrong name costs as long as a wrong
    password. Made on first use: hashing is slow on purpose, and most commands never sign in."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(FieldError):
    """An account change refused (a password too short, an unknown role)."""


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("password", f"at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError("password", f"at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


async def _user_named(session: AsyncSession, username: str) -> tuple[Actor, User] | None:
    row = (
        await session.execute(
            select(Actor, User).join(User, User.actor_id == Actor.id).where(User.username == username)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def authenticate(session: AsyncSession, username: str, password: str) -> tuple[Actor, User] | None:
    """The member whose password this is, or None (unknown name, wrong password, disabled)."""
    username = username.strip().lower().lstrip("@")
    # A name no member can have is looked up nowhere: a NUL in it made PostgreSQL refuse the query.
    found = await _user_named(session, username) if USERNAME_RULE.match(username) else None
    stored = found[1].password_hash if found else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if found is None or stored is None or found[1].disabled:
        return None
    if _hasher.check_needs_rehash(stored):
        found[1].password_hash = _hasher.hash(password)
        await session.flush()
    return found


async def set_password(session: AsyncSession, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    await session.flush()


async def get_user(session: AsyncSession, user_id: int) -> tuple[Actor, User] | None:
    row = (
        await session.execute(
            select(Actor, User).join(User, User.actor_id == Actor.id).where(User.id == user_id)
        )
    ).first()
    return (row[0], row[1]) if row else None
