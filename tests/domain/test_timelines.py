"""The home timeline's two steps (recent rows in id order, else from the followed accounts'
posts) give exactly the posts the rule says, page after page, whichever step answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain import timelines
from talentfed.domain.paging import StatusRef, TimelinePage
from talentfed.domain.visibility import Viewer
from talentfed.storage.models import Actor, Follow, Interaction, Object
from tests.support.factories import local_actor_row, remote_actor


async def _people(session: AsyncSession) -> tuple[Actor, Actor, Actor, Actor, Actor]:
    """ada follows kim and lee (accepted) and asked eve (pending); nobody follows zed."""
    ada = local_actor_row("ada")
    kim, lee, eve, zed = (remote_actor(name, f"{name}.example") for name in ("kim", "lee", "eve", "zed"))
    session.add_all([ada, kim, lee, eve, zed])
    await session.flush()
    session.add_all(
        [
            Follow(follower_id=ada.id, followed_id=kim.id, state="accepted"),
            Follow(follower_id=ada.id, followed_id=lee.id, state="accepted"),
            Follow(follower_id=ada.id, followed_id=eve.id, state="pending"),
        ]
    )
    return ada, kim, lee, eve, zed


async def _world(session: AsyncSession) -> tuple[Actor, list[int]]:
    """Posts of ada, kim, lee and eve interleave, with a followers-only one of kim's and a burst
    of eve's that step 1 must read past."""
    ada, kim, lee, eve, _ = await _people(session)
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
    page = TimelinePage(limit=limit)
    while True:
        rows = await timelines.home(session, ada, Viewer(actor_id=ada.id), page)
        seen += [row.id for row in rows]
        if len(rows) < limit:
            return seen
        page = TimelinePage(max_id=StatusRef(rows[-1].id), limit=limit)


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
    newest_after = await timelines.home(session, ada, viewer, TimelinePage(since_id=StatusRef(expected[3])))
    assert [p.id for p in newest_after] == expected[:3]
    next_newer = await timelines.home(
        session, ada, viewer, TimelinePage(min_id=StatusRef(expected[3]), limit=2)
    )
    assert [p.id for p in next_newer] == expected[1:3]


# --- reblogs ----------------------------------------------------------------------------------

Item = tuple[str, int]  # ("post", object id) or ("reblog", interaction id)


def _item(row: timelines.TimelineItem) -> Item:
    return ("reblog", row.boost.id) if isinstance(row, timelines.Reblog) else ("post", row.id)


def _ref(item: Item) -> StatusRef:
    return StatusRef(item[1], reblog=item[0] == "reblog")


async def _reblog_world(session: AsyncSession) -> tuple[Actor, list[Item]]:
    """Posts and reblogs arrive one after the other; ada's home holds the posts of ada, kim and
    lee and their reblogs of posts she may read, each post once. Returns ada and her home,
    newest first."""
    ada, kim, lee, eve, zed = await _people(session)
    shown = {ada.id, kim.id, lee.id}
    posts: dict[str, Object] = {}
    home: list[Item] = []

    async def post(name: str, author: Actor, visibility: str = "public") -> None:
        posts[name] = Object(
            uri=f"https://x.example/objects/{name}",
            type="Note",
            kind="note",
            author_id=author.id,
            content="<p>x</p>",
            visibility=visibility,
        )
        session.add(posts[name])
        await session.flush()  # one at a time: each reblog falls after the posts before it
        if author.id in shown:
            home.append(("post", posts[name].id))

    async def boost(booster: Actor, name: str, *, readable: bool = True) -> None:
        edge = Interaction(kind="announce", actor_id=booster.id, object_id=posts[name].id)
        session.add(edge)
        await session.flush()
        if booster.id in shown and readable:
            home.append(("reblog", edge.id))

    await post("z1", zed)
    await post("k1", kim)
    await boost(kim, "z1")  # kim's reblog of a post by someone ada does not follow
    await post("z2", zed, "followers")
    await boost(kim, "z2", readable=False)  # ada may not read zed's followers-only post
    await post("e1", eve)
    await boost(eve, "z1")  # eve's follow is pending
    await boost(lee, "e1")
    for n in range(4):
        await post(f"l{n}", lee)
        await post(f"z{n + 3}", zed)
    await boost(ada, "z3")  # her own reblog
    await boost(zed, "l1")  # by someone she does not follow
    await boost(lee, "z4")
    await boost(kim, "z5")
    await post("a1", ada)
    await boost(lee, "z6")
    return ada, home[::-1]


async def _all_items(session: AsyncSession, ada: Actor, limit: int) -> list[Item]:
    seen: list[Item] = []
    page = TimelinePage(limit=limit)
    while True:
        rows = [_item(row) for row in await timelines.home(session, ada, Viewer(actor_id=ada.id), page)]
        seen += rows
        if len(rows) < limit:
            return seen
        page = TimelinePage(max_id=_ref(rows[-1]), limit=limit)


@pytest.mark.parametrize("window", [2_000, 3, 1])
@pytest.mark.parametrize("limit", [1, 2, 3, 40])
async def test_reblogs_interleave_with_posts_in_the_order_they_came(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, window: int, limit: int
) -> None:
    monkeypatch.setattr(timelines, "RECENT_WINDOW", window)
    ada, expected = await _reblog_world(session)
    assert [kind for kind, _ in expected].count("reblog") == 6
    assert await _all_items(session, ada, limit) == expected


async def test_paging_from_a_reblog_forward_and_back(session: AsyncSession) -> None:
    ada, expected = await _reblog_world(session)
    viewer = Viewer(actor_id=ada.id)
    reblog_at = next(i for i, item in enumerate(expected) if item[0] == "reblog" and i > 2)

    async def items(page: TimelinePage) -> list[Item]:
        return [_item(row) for row in await timelines.home(session, ada, viewer, page)]

    cursor = _ref(expected[reblog_at])
    assert await items(TimelinePage(max_id=cursor, limit=3)) == expected[reblog_at + 1 : reblog_at + 4]
    assert await items(TimelinePage(since_id=cursor)) == expected[:reblog_at]
    assert await items(TimelinePage(min_id=cursor, limit=2)) == expected[reblog_at - 2 : reblog_at]
    # A reblog undone since: its id still pages from where it was.
    row = await session.get(Interaction, expected[reblog_at][1])
    await session.delete(row)
    await session.flush()
    assert await items(TimelinePage(max_id=cursor, limit=3)) == expected[reblog_at + 1 : reblog_at + 4]
    assert await items(TimelinePage(since_id=cursor)) == expected[:reblog_at]


async def test_each_post_shows_once_in_a_page(session: AsyncSession) -> None:
    """The post itself when the page holds it, else its oldest reblog there."""
    ada, kim, lee, _, zed = await _people(session)
    kims = Object(uri="https://x.example/k", type="Note", kind="note", author_id=kim.id, content="k")
    zeds = Object(uri="https://x.example/z", type="Note", kind="note", author_id=zed.id, content="z")
    session.add_all([kims, zeds])
    await session.flush()
    edges = [
        Interaction(kind="announce", actor_id=booster.id, object_id=post.id)
        for booster, post in ((lee, kims), (ada, kims), (lee, zeds), (kim, zeds), (ada, zeds))
    ]
    for edge in edges:
        session.add(edge)
        await session.flush()
    page = await timelines.home(session, ada, Viewer(actor_id=ada.id), TimelinePage())
    assert [_item(row) for row in page] == [("reblog", edges[2].id), ("post", kims.id)]


async def test_an_accounts_statuses_hold_its_reblogs_unless_filtered(session: AsyncSession) -> None:
    await _reblog_world(session)
    lee = await session.scalar(select(Actor).where(Actor.username == "lee"))
    assert lee is not None
    anyone = Viewer()
    statuses = await timelines.account(
        session, lee, anyone, TimelinePage(limit=40), timelines.AccountFilter()
    )
    kinds = [_item(row)[0] for row in statuses]
    assert kinds.count("reblog") == 3 and kinds.count("post") == 4
    for only in (
        timelines.AccountFilter(exclude_reblogs=True),
        timelines.AccountFilter(pinned=True),
        timelines.AccountFilter(only_media=True),
    ):
        rows = await timelines.account(session, lee, anyone, TimelinePage(limit=40), only)
        assert all(isinstance(row, Object) for row in rows)


async def _walk_forward(session: AsyncSession, ada: Actor, start: StatusRef, limit: int) -> list[Item]:
    """Every status newer than `start`, read with min_id a page at a time (as an app catches up
    after a gap), newest first."""
    seen: list[Item] = []
    page = TimelinePage(min_id=start, limit=limit)
    while True:
        rows = [_item(row) for row in await timelines.home(session, ada, Viewer(actor_id=ada.id), page)]
        if not rows:
            return seen
        assert len(rows) <= limit
        seen = rows + seen
        page = TimelinePage(min_id=_ref(rows[0]), limit=limit)


@pytest.mark.parametrize("limit", [1, 2, 3, 40])
async def test_min_id_pages_forward_through_reblogs_to_the_newest(session: AsyncSession, limit: int) -> None:
    ada, expected = await _reblog_world(session)
    assert await _walk_forward(session, ada, StatusRef(0), limit) == expected
    # From a reblog in the middle: exactly what is newer than it.
    middle = next(i for i, item in enumerate(expected) if item[0] == "reblog" and i > 2)
    assert await _walk_forward(session, ada, _ref(expected[middle]), limit) == expected[:middle]


async def test_a_reblog_of_a_deleted_post_is_gone_and_its_id_still_pages(session: AsyncSession) -> None:
    ada, expected = await _reblog_world(session)
    viewer = Viewer(actor_id=ada.id)
    at = next(i for i, item in enumerate(expected) if item[0] == "reblog" and 2 < i < len(expected) - 3)
    boost = await session.get(Interaction, expected[at][1])
    assert boost is not None
    boosted = await session.get(Object, boost.object_id)
    assert boosted is not None
    boosted.deleted_at = boosted.published
    await session.flush()
    gone = [item for item in expected if item != expected[at]]
    assert await _all_items(session, ada, 2) == gone
    cursor = _ref(expected[at])
    older = await timelines.home(session, ada, viewer, TimelinePage(max_id=cursor, limit=3))
    assert [_item(row) for row in older] == expected[at + 1 : at + 4]
    newer = await timelines.home(session, ada, viewer, TimelinePage(min_id=cursor, limit=2))
    assert [_item(row) for row in newer] == expected[at - 2 : at]
    assert await timelines.readable(session, viewer, [cursor]) == []


async def test_a_reblog_of_a_post_on_the_page_gives_way_to_the_post_in_either_direction(
    session: AsyncSession,
) -> None:
    """Reading forward (min_id) a page keeps the same rule: the post itself when the page holds
    it; and the reblog left out is not lost to an app catching up, it comes with the next page."""
    ada, kim, lee, _, _ = await _people(session)
    kims = Object(uri="https://x.example/k", type="Note", kind="note", author_id=kim.id, content="k")
    session.add(kims)
    await session.flush()
    boost = Interaction(kind="announce", actor_id=lee.id, object_id=kims.id)
    session.add(boost)
    await session.flush()
    viewer = Viewer(actor_id=ada.id)
    newest = await timelines.home(session, ada, viewer, TimelinePage(limit=5))
    assert [_item(row) for row in newest] == [("post", kims.id)]
    forward = await timelines.home(session, ada, viewer, TimelinePage(min_id=StatusRef(0), limit=5))
    assert [_item(row) for row in forward] == [("post", kims.id)]
    after = await timelines.home(session, ada, viewer, TimelinePage(min_id=StatusRef(kims.id), limit=5))
    assert [_item(row) for row in after] == [("reblog", boost.id)]
