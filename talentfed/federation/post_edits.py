"""Recording edits: the version of a post that an edit replaces is kept (`post_edits`), so that
apps can say "edited" and show each version (Mastodon's status history).

One rule for both kinds of edit: our members' (`domain/posts.edit`) and other servers'
Updates (`post_store.store_post`). Each takes the post's `version_of` before it changes the
row, then calls `record_edit` with it; a version is kept only when what readers see changed,
so a repeated or a bookkeeping-only Update (an accepted answer, a project call's status) is no
edit. The post's `edited_at` (when it last changed so) is kept on its row here too, so that
timelines read it with the post. When a post is deleted its past versions go with its text
(`forget_edits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.models import Object, PostEdit

__all__ = ["Version", "as_it_read", "forget_edits", "record_edit", "version_of"]


@dataclass(frozen=True)
class Version:
    """What a post shows at one time, under the names of its columns (the same on `objects`
    and `post_edits`). `source` and `language` come along but are not what makes an edit: the
    same text written again, or relabelled, reads the same."""

    name: str | None
    summary: str | None
    content: str | None
    sensitive: bool
    tags: tuple[str, ...]
    source: str | None = field(default=None, compare=False)
    language: str | None = field(default=None, compare=False)


COLUMNS = tuple(f.name for f in fields(Version))


def version_of(post: Object) -> Version:
    return Version(**{**_values(post), "sensitive": bool(post.sensitive), "tags": tuple(post.tags or ())})


def record_edit(session: AsyncSession, post: Object, before: Version, at: datetime) -> bool:
    """Keep `before` as the version of `post` that an edit replaced `at`, if the post now reads
    differently, and mark the post edited `at`; True if it was kept (added to the session, not
    flushed)."""
    if version_of(post) == before:
        return False
    session.add(PostEdit(object_id=post.id, replaced_at=at, **{**_values(before), "tags": list(before.tags)}))
    post.edited_at = at
    return True


def as_it_read(post: Object, edit: PostEdit) -> Object:
    """A copy of `post` (in no session, not to be added to one) with the version `edit` kept:
    what rendering a past version needs (its kind, terms and links are the post's)."""
    copy = Object(**{column.key: getattr(post, column.key) for column in Object.__table__.columns})
    for name, value in _values(edit).items():
        setattr(copy, name, value)
    return copy


def _values(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in COLUMNS}


async def forget_edits(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    """Drop the past versions of the posts matching `where` (conditions on `Object`): a deleted
    post's text is gone, and so are its earlier texts; with them, its `edited_at`."""
    await session.execute(delete(PostEdit).where(PostEdit.object_id.in_(select(Object.id).where(*where))))
    await session.execute(update(Object).where(*where, Object.edited_at.is_not(None)).values(edited_at=None))
