"""The home-timeline benchmark's data: what a busy member's node holds, in bulk inserts.

Every query a real home page runs has rows to find:

- 3 × `followed` remote actors, each with a stored actor document (a public key, as fetched);
- `posts` remote posts, each with its stored Note document; a tenth followers-only, one in
  `REPLY_EVERY` a reply to an earlier post, one in `MEDIA_EVERY` with one or two remote
  pictures, one in `EDIT_EVERY` edited once (a `post_edits` row), one in `WARNING_EVERY` behind
  a content warning, one in `DIRECT_EVERY` a direct post that mentions the member;
- likes spread among the posts (every post's counts read something), and the member's own
  likes and bookmarks (what a signed-in reader's statuses say);
- `announces` reblogs among the posts, by followed and other accounts, of posts a little
  before them, placed where they arrived (`after_post_id`).

Rows are built as dicts and written with executemany in batches; nothing goes through the ORM's
unit of work, so 100,000 posts take seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage.models import (
    Actor,
    Bookmark,
    Follow,
    Interaction,
    MediaAttachment,
    Object,
    PostEdit,
    utcnow,
)

BATCH = 5_000
POST_SPACING = timedelta(seconds=300)
REPLY_EVERY = 7
MEDIA_EVERY = 6
EDIT_EVERY = 25
WARNING_EVERY = 30
DIRECT_EVERY = 200
LIKES_PER_POST = 0.5  # on average, from accounts of any kind
MEMBER_LIKES_EVERY = 40
MEMBER_BOOKMARKS_EVERY = 90

# About what a Mastodon server sends: a paragraph or two of HTML.
TEXT = (
    "<p>We are looking for people who have worked on distributed storage, consensus and the "
    "operational side of running replicated databases at scale. Remote is fine; the team is "
    "spread over four time zones and meets once a quarter.</p><p>Ask me anything here.</p>"
)
FAKE_KEY = (
    "-----BEGIN PUBLIC KEY-----\n"
    + ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" * 9)
    + "\n-----END PUBLIC KEY-----"
)


@dataclass(frozen=True)
class Shape:
    followed: int
    posts: int
    announces: int

    @property
    def likes(self) -> int:
        return int(self.posts * LIKES_PER_POST)


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for offset in range(0, len(rows), BATCH):
        yield rows[offset : offset + BATCH]


async def _insert_all(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        await session.execute(insert(table), batch)


def _actor_rows(count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        host = f"peer{i % 50}.example"
        uri = f"https://{host}/users/u{i}"
        rows.append(
            {
                "uri": uri,
                "type": "Person",
                "username": f"u{i}",
                "domain": host,
                "local": False,
                "display_name": f"Person {i}",
                "summary": "<p>Engineer. Opinions are my own.</p>",
                "inbox_url": f"{uri}/inbox",
                "public_key_id": f"{uri}#main-key",
                "public_key_pem": FAKE_KEY,
                "skills": [],
                "fields": [{"name": "Site", "value": f"https://{host}/~u{i}"}],
                "document": {
                    "id": uri,
                    "type": "Person",
                    "preferredUsername": f"u{i}",
                    "inbox": f"{uri}/inbox",
                    "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": FAKE_KEY},
                },
            }
        )
    return rows


def post_uri(i: int) -> str:
    return f"https://bench.example/objects/{i}"


def _visibility(i: int) -> str:
    if i % DIRECT_EVERY == DIRECT_EVERY - 1:
        return "direct"
    return "public" if i % 10 else "followers"


def _edited_at(i: int, start: datetime) -> datetime | None:
    return start + POST_SPACING * i + timedelta(minutes=2) if i % EDIT_EVERY == 5 else None


def _authors(actor_ids: Sequence[int], count: int) -> list[int]:
    """Who wrote each post: drawn at random (seeded), so the followed accounts' posts are spread
    among the others as on a real node, not in runs of a thousand."""
    draw = random.Random(14)
    return [draw.choice(actor_ids) for _ in range(count)]


def _post_rows(authors: Sequence[int], member_uri: str, count: int, start: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        uri = post_uri(i)
        direct = _visibility(i) == "direct"
        reply_to = post_uri(i - 1 - i % 5) if i % REPLY_EVERY == 3 and i > 5 else None
        warning = "<p>work talk</p>" if i % WARNING_EVERY == 7 else None
        mentions = [{"type": "Mention", "href": member_uri, "name": "@ada"}] if direct else []
        rows.append(
            {
                "uri": uri,
                "type": "Note",
                "kind": "note",
                "author_id": authors[i],
                "local": False,
                "url": uri,
                "content": f"<p>post {i}</p>{TEXT}",
                "summary": warning,
                "sensitive": warning is not None,
                "visibility": _visibility(i),
                "in_reply_to_uri": reply_to,
                "tags": ["distributed-systems"] if i % 3 == 0 else [],
                "skills": [],
                "extra": {"mentions": mentions} if mentions else {},
                "document": {
                    "id": uri,
                    "type": "Note",
                    "content": f"<p>post {i}</p>{TEXT}",
                    "inReplyTo": reply_to,
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "tag": mentions,
                },
                "published": start + POST_SPACING * i,
                "updated": _edited_at(i, start),
                "edited_at": _edited_at(i, start),  # what post_edits.record_edit keeps on the row
            }
        )
    return rows


def _media_rows(post_ids: Sequence[int], author_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for i in range(0, len(post_ids), MEDIA_EVERY):
        for position in range(1 + (i // MEDIA_EVERY) % 2):
            rows.append(
                {
                    "actor_id": author_ids[i],
                    "object_id": post_ids[i],
                    "position": position,
                    "purpose": "attachment",
                    "type": "image",
                    "media_type": "image/jpeg",
                    "remote_url": f"https://bench.example/media/{i}-{position}.jpg",
                    "description": "A whiteboard after the design review",
                    "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
                    "width": 1600,
                    "height": 1200,
                }
            )
    return rows


def _edit_rows(post_ids: Sequence[int], start: datetime) -> list[dict[str, Any]]:
    return [
        {
            "object_id": post_ids[i],
            "content": f"<p>post {i} (first version)</p>",
            "sensitive": False,
            "tags": [],
            "replaced_at": start + POST_SPACING * i + timedelta(minutes=2),
        }
        for i in range(5, len(post_ids), EDIT_EVERY)
    ]


def _interaction(kind: str, actor_id: int, post_id: int, after: int, at: datetime) -> dict[str, Any]:
    # `after_post_id` must be given: in a bulk insert its default would be the newest post's id.
    return {
        "kind": kind,
        "actor_id": actor_id,
        "object_id": post_id,
        "target_actor_id": None,
        "after_post_id": after,
        "created_at": at,
    }


def _like_rows(
    actor_ids: Sequence[int], post_ids: Sequence[int], count: int, start: datetime
) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        at = (i * 2 + 1) % len(post_ids)
        later = min(len(post_ids) - 1, at + 1 + i % 20)
        rows.append(
            _interaction(
                "like",
                actor_ids[(i * 13) % len(actor_ids)],
                post_ids[at],
                post_ids[later],
                start + POST_SPACING * later,
            )
        )
    return rows


def _announce_rows(
    actor_ids: Sequence[int], post_ids: Sequence[int], count: int, start: datetime
) -> list[dict[str, Any]]:
    """Reblogs spread evenly among the posts: each of a post stored a little before it."""
    rows = []
    for i in range(count):
        at = (i + 1) * len(post_ids) // (count + 1)
        boosted = post_ids[max(0, at - 1 - i % 50)]
        rows.append(
            {
                **_interaction(
                    "announce",
                    actor_ids[(i * 7) % len(actor_ids)],
                    boosted,
                    post_ids[at],
                    start + POST_SPACING * at + timedelta(seconds=1),
                ),
                "activity_uri": f"https://bench.example/activities/announce/{i}",
            }
        )
    return rows


def _member_rows(
    member_id: int, post_ids: Sequence[int], start: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the member's likes, her bookmarks) of posts spread through the timeline."""
    likes = [
        _interaction(
            "like", member_id, post_ids[i], post_ids[min(i + 1, len(post_ids) - 1)], start + POST_SPACING * i
        )
        for i in range(0, len(post_ids), MEMBER_LIKES_EVERY)
    ]
    bookmarks = [
        {"actor_id": member_id, "object_id": post_ids[i]}
        for i in range(0, len(post_ids), MEMBER_BOOKMARKS_EVERY)
    ]
    return likes, bookmarks


def _mention_rows(
    member_id: int, post_ids: Sequence[int], authors: Sequence[int], start: datetime
) -> list[dict[str, Any]]:
    return [
        {
            **_interaction("mention", authors[i], post_ids[i], post_ids[i], start + POST_SPACING * i),
            "target_actor_id": member_id,
        }
        for i in range(len(post_ids))
        if _visibility(i) == "direct"
    ]


def utc_start() -> datetime:
    return utcnow() - timedelta(days=365)


async def populate(session: AsyncSession, member: Actor, shape: Shape) -> None:
    """Write the data for `member` in `session` (the caller commits)."""
    start = utc_start()
    await _insert_all(session, Actor, _actor_rows(shape.followed * 3))
    others = list(await session.scalars(select(Actor.id).where(Actor.local.is_(False)).order_by(Actor.id)))
    follows = [
        {"follower_id": member.id, "followed_id": actor_id, "state": "accepted", "accepted_at": start}
        for actor_id in others[: shape.followed]
    ]
    await _insert_all(session, Follow, follows)
    authors = _authors(others, shape.posts)
    await _insert_all(session, Object, _post_rows(authors, member.uri, shape.posts, start))
    post_ids = list(
        await session.scalars(
            select(Object.id).where(Object.uri.like("https://bench.example/objects/%")).order_by(Object.id)
        )
    )
    await _insert_all(session, MediaAttachment, _media_rows(post_ids, authors))
    await _insert_all(session, PostEdit, _edit_rows(post_ids, start))
    await _insert_all(session, Interaction, _like_rows(others, post_ids, shape.likes, start))
    await _insert_all(session, Interaction, _announce_rows(others, post_ids, shape.announces, start))
    await _insert_all(session, Interaction, _mention_rows(member.id, post_ids, authors, start))
    likes, bookmarks = _member_rows(member.id, post_ids, start)
    await _insert_all(session, Interaction, likes)
    await _insert_all(session, Bookmark, bookmarks)
