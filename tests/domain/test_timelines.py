"""The home timeline's two steps (recent rows in id order, else from the followed accounts'
posts) give exactly the posts the rule says, page after page, whichever step answers."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain import timelines
from talentfed.domain.paging import Page
from talentfed.domain.visibility import Viewer
from talentfed.storage.models import Actor, Follow, Object
from tests.support.factories import local_actor_row, remote_actor


async def _world(session: AsyncSession) -> tuple[Actor, list[int]]:
    """ada follows kim and lee (accepted) and asked eve (pending); posts interleave, with a
    followers-only one of kim's and a burst of eve's that step 1 must read past."""
    ada = local_actor_row("ada")
    kim, lee, eve = (
        remote_actor("kim", "a.example"),
        remote_actor("lee", "b.example"),
        remote_actor("eve", "c.example"),
    )
    session.add_all([ada, kim, lee, eve])
    await session.flush()
    session.add_all(
        [
            Follow(follower_id=ada.id, followed_id=kim.id, state="accepted"),
            Follow(follower_id=ada.id, followed_id=lee.id, state="accepted"),
            Follow(follower_id=ada.id, followed_id=eve.id, state="pending"),
        ]
    )
    authors = [kim, eve, lee, eve, eve, ada, kim, eve, eve, eve, eve, eve, lee, kim, eve]
    posts = [
        Object(
            uri=f"https://x.example/objects/{n}",
            type="Note",
            kind="note",
            author_id=author.id,
            content="<p>x</p>",
            visibility="followers" if n == 6 else "public",
        )
        for n, author in enumerate(authors)
    ]
    session.add_all(posts)
    await session.flush()
    expected = [p.id for p in reversed(posts) if p.author_id in {ada.id, kim.id, lee.id}]
    return ada, expected


async def _all_pages(session: AsyncSession, ada: Actor, limit: int) -> list[int]:
    seen: list[int] = []
    page = Page(limit=limit)
    while True:
        rows = await timelines.home(session, ada, Viewer(actor_id=ada.id), page)
        seen += [row.id for row in rows]
        if len(rows) < limit:
            return seen
        page = Page(max_id=rows[-1].id, limit=limit)


@pytest.mark.parametrize("window", [2_000, 3, 1])
async def test_every_page_holds_what_the_rule_says(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    monkeypatch.setattr(timelines, "RECENT_WINDOW", window)  # 3 and 1 force step 2 on sparse pages
    ada, expected = await _world(session)
    assert await _all_pages(session, ada, limit=2) == expected
    assert await _all_pages(session, ada, limit=40) == expected


async def test_since_id_and_min_id_pages(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timelines, "RECENT_WINDOW", 2)
    ada, expected = await _world(session)
    viewer = Viewer(actor_id=ada.id)
    newest_after = await timelines.home(session, ada, viewer, Page(since_id=expected[3], limit=40))
    assert [p.id for p in newest_after] == expected[:3]
    next_newer = await timelines.home(session, ada, viewer, Page(min_id=expected[3], limit=2))
    assert [p.id for p in next_newer] == expected[1:3]
