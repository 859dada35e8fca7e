"""A home page costs the same few SQL round trips however many statuses it holds: what each
status shows (its author and their counts, its parent, counts, media, edit time, the reader's
marks, a reblog's booster) is read once per page, never once per status. Performance targets
live in bench/bench_home_timeline.py; this counts statements, which do not depend on the machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import load_config
from talentfed.domain.members import find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import Bookmark, Follow, Interaction, MediaAttachment, Object, PostEdit, utcnow
from tests.support import write_config
from tests.support.demo_app import demo_app_client
from tests.support.factories import post_row, remote_actor
from tests.web.mastodon.test_posting import _token

# The token, the page's posts, its reblogs, its actors, every count and mark it shows with its
# replies' parents (domain/fact_rows.py), its media.
STATEMENTS_PER_PAGE = 6


@pytest.fixture
async def quiet_client(tmp_path: Path, db_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """`demo_client` without delivery workers, whose polling would be counted too."""
    config = load_config(write_config(tmp_path, db_url, **{"federation.delivery_workers": 0}), environ={})
    async with demo_app_client(config, engine) as client:
        yield client


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def _busy_home(engine: AsyncEngine) -> None:
    """ada follows 20 accounts whose 60 posts have replies, media, edits and reblogs among them,
    and she liked and bookmarked some."""
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        people = [remote_actor(f"p{n}", f"p{n % 4}.example") for n in range(20)]
        session.add_all(people)
        await session.flush()
        session.add_all(Follow(follower_id=ada.id, followed_id=p.id, state="accepted") for p in people)
        posts: list[Object] = []
        for n in range(60):
            author = people[n % len(people)]
            reply_to = posts[-1].uri if n % 3 == 1 else None
            edited = utcnow() - timedelta(minutes=n) if n % 5 == 4 else None
            post = post_row(
                author, f"n{n}", content=f"<p>{n}</p>", in_reply_to_uri=reply_to, edited_at=edited
            )
            session.add(post)
            await session.flush()  # one at a time: reblogs fall between them
            posts.append(post)
            if n % 4 == 0:
                session.add(
                    MediaAttachment(
                        actor_id=author.id, object_id=post.id, type="image", remote_url=f"{post.uri}.png"
                    )
                )
            if edited is not None:
                session.add(PostEdit(object_id=post.id, content="<p>before</p>", replaced_at=edited))
            if n % 3 == 2:
                session.add(
                    Interaction(kind="announce", actor_id=people[(n + 7) % 20].id, object_id=posts[n // 2].id)
                )
                session.add(Interaction(kind="like", actor_id=ada.id, object_id=post.id))
                session.add(Bookmark(actor_id=ada.id, object_id=posts[n - 1].id))
                await session.flush()


async def _statements_for_page(
    client: httpx.AsyncClient, engine: AsyncEngine, auth: dict[str, str], limit: int
) -> tuple[list[dict[str, Any]], list[str]]:
    with counted(engine) as statements:
        response = await client.get("/api/v1/timelines/home", params={"limit": limit}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json(), statements


async def test_a_home_page_costs_the_same_statements_whatever_its_length(
    quiet_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await _busy_home(engine)
    auth = await _token(quiet_client)
    await _statements_for_page(quiet_client, engine, auth, 1)  # the token's first use is recorded once

    short, short_statements = await _statements_for_page(quiet_client, engine, auth, 5)
    long, long_statements = await _statements_for_page(quiet_client, engine, auth, 40)

    assert len(long) == 40 and len(short) == 5
    # Both pages show what costs a query: replies, media, edits, reblogs, the reader's marks.
    for page in (short, long):
        originals = [status["reblog"] or status for status in page]
        assert any(status["reblog"] for status in page)
        assert any(status["in_reply_to_id"] for status in originals)
        assert any(status["media_attachments"] for status in originals)
        assert any(status["edited_at"] for status in originals)
        assert any(status["favourited"] or status["bookmarked"] for status in originals)
    assert len(short_statements) == len(long_statements) == STATEMENTS_PER_PAGE, long_statements
