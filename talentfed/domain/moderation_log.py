"""The moderation log: every action a moderator takes, with who took it and why.

Each moderation function in the domain (domain/reports.py, domain/moderation.py) writes its entry
here in the same transaction as the action, so the log holds exactly what was done.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.models import ModerationLogEntry, User

PAGE = 100


def record(
    session: AsyncSession, moderator: User | None, action: str, subject: str, detail: str = ""
) -> None:
    """Add the entry to the session (`moderator` None: the node itself, e.g. the command line)."""
    session.add(
        ModerationLogEntry(
            moderator_id=moderator.id if moderator else None,
            moderator_name=moderator.username if moderator else "(command line)",
            action=action,
            subject=subject,
            detail=detail,
        )
    )


async def entries(
    session: AsyncSession, *, before_id: int | None = None, limit: int = PAGE
) -> list[ModerationLogEntry]:
    """The newest entries first, `limit` of them, older than `before_id` when given."""
    query = select(ModerationLogEntry).order_by(ModerationLogEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(ModerationLogEntry.id < before_id)
    return list(await session.scalars(query))
