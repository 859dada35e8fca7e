"""Publishing: articles, questions, answers and project calls written by local members.

Each kind maps to an ActivityStreams base type that Mastodon shows usefully;
the mapping and its reasons are in FEDERATION.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor, Object, utcnow
from talentfed.text import normalize_skills, render_markdown

KIND_TO_TYPE = {
    "article": "Article",
    "question": "Question",
    "answer": "Note",
    "project": "Note",
    "note": "Note",
}
PROJECT_STATUSES = ("open", "closed", "filled")


class PostError(ValueError):
    """A post cannot be published as asked; the text names the field."""


@dataclass(frozen=True)
class Draft:
    kind: str
    body: str  # Markdown
    title: str = ""
    summary: str = ""
    tags: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    language: str | None = "en"
    in_reply_to: str | None = None
    deadline: datetime | None = None
    status: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _check(draft: Draft) -> None:
    if draft.kind not in KIND_TO_TYPE:
        raise PostError(f"kind: expected one of {', '.join(KIND_TO_TYPE)}, got {draft.kind!r}")
    if draft.kind in ("article", "question", "project") and not draft.title.strip():
        raise PostError("title: a title is required")
    if not draft.body.strip():
        raise PostError("body: the text is empty")
    if draft.kind == "answer" and not draft.in_reply_to:
        raise PostError("in_reply_to: an answer must reply to a question")
    if draft.kind == "project":
        if draft.status not in PROJECT_STATUSES:
            raise PostError(f"status: expected one of {', '.join(PROJECT_STATUSES)}, got {draft.status!r}")
        if draft.deadline is not None and draft.deadline.tzinfo is None:
            raise PostError("deadline: expected a date with a time zone")


async def publish(
    session: AsyncSession, config: Config, author: Actor, draft: Draft, *, object_id: str | None = None
) -> Object:
    """Store a new local post. `object_id` fixes the URL (the demo uses it to stay idempotent)."""
    _check(draft)
    uris = LocalURIs(config.node.base_url)
    uri = uris.object(object_id or uuid.uuid4().hex)
    post = Object(
        uri=uri,
        url=uri,
        type=KIND_TO_TYPE[draft.kind],
        kind=draft.kind,
        author_id=author.id,
        local=True,
        name=draft.title.strip() or None,
        summary=draft.summary.strip() or None,
        source=draft.body,
        content=render_markdown(draft.body),
        language=draft.language,
        in_reply_to_uri=draft.in_reply_to,
        tags=normalize_skills(list(draft.tags)),
        skills=normalize_skills(list(draft.skills)),
        status=draft.status,
        deadline=draft.deadline,
        extra=dict(draft.extra),
        published=utcnow(),
    )
    session.add(post)
    await session.flush()
    return post


async def find_object(session: AsyncSession, uri: str) -> Object | None:
    return await session.scalar(select(Object).where(Object.uri == uri))
