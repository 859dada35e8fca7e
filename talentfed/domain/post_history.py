"""A post's history: each version it has shown, oldest first, and when each began. The past
versions are those edits replaced (`post_edits`, recorded by federation/post_edits.py); the
last is the post itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.federation.post_edits import as_it_read
from talentfed.storage.models import Object, PostEdit


@dataclass(frozen=True)
class Revision:
    """`post` as it read from `since`: a copy outside the session for a past version."""

    post: Object
    since: datetime


async def history(session: AsyncSession, post: Object) -> list[Revision]:
    """Every version, the original first and the current one last (one entry if never edited).
    A version began when the edit before it replaced the one before (the original: published)."""
    edits = list(
        await session.scalars(select(PostEdit).where(PostEdit.object_id == post.id).order_by(PostEdit.id))
    )
    starts = [post.published, *(edit.replaced_at for edit in edits)]
    versions = [*(as_it_read(post, edit) for edit in edits), post]
    return [Revision(version, since) for version, since in zip(versions, starts, strict=True)]
