"""A post's history: each version it has shown, oldest first, and when each began. The past
versions are those edits replaced (`post_edits`, recorded by federation/post_edits.py); the
last is the post itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
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


async def edited_times(session: AsyncSession, posts: Sequence[Object]) -> dict[int, datetime]:
    """When each of `posts` that was edited was last edited, by post id."""
    if not posts:
        return {}
    rows = await session.execute(
        select(PostEdit.object_id, func.max(PostEdit.replaced_at))
        .where(PostEdit.object_id.in_([post.id for post in posts]))
        .group_by(PostEdit.object_id)
    )
    return {object_id: at for object_id, at in rows}
