"""Bookmarks through the client API: private to the member (nothing federated), only of what the
member may read, idempotent, listed newest bookmark first and paged by the bookmark's id."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Bookmark, DeliveryJob, Object
from tests.web.mastodon.test_posting import _token, publish_as


async def _demo_ids(engine: AsyncEngine) -> dict[str, int]:
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(Object.uri, Object.id).where(Object.uri.contains("/objects/demo-"))
        )
        return {uri.rsplit("/", 1)[1].removeprefix("demo-"): post_id for uri, post_id in rows}


async def _count(engine: AsyncEngine, model: type) -> int:
    async with session_factory(engine)() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_bookmark_list_and_unbookmark(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ids = await _demo_ids(engine)
    auth = await _token(demo_client)
    sent = (await _count(engine, Activity), await _count(engine, DeliveryJob))

    marked = await demo_client.post(f"/api/v1/statuses/{ids['question']}/bookmark", headers=auth)
    assert marked.status_code == 200, marked.text
    assert marked.json()["id"] == str(ids["question"]) and marked.json()["bookmarked"] is True
    again = await demo_client.post(f"/api/v1/statuses/{ids['question']}/bookmark", headers=auth)
    assert again.status_code == 200 and again.json()["bookmarked"] is True
    assert (await demo_client.get(f"/api/v1/statuses/{ids['question']}", headers=auth)).json()["bookmarked"]
    assert "bookmarked" not in (await demo_client.get(f"/api/v1/statuses/{ids['question']}")).json()

    listed = await demo_client.get("/api/v1/bookmarks", headers=auth)
    assert [s["id"] for s in listed.json()] == [str(ids["question"])]
    assert listed.json()[0]["bookmarked"] is True and 'rel="next"' in listed.headers["link"]
    assert (await _count(engine, Activity), await _count(engine, DeliveryJob)) == sent  # private

    removed = await demo_client.post(f"/api/v1/statuses/{ids['question']}/unbookmark", headers=auth)
    assert removed.status_code == 200 and removed.json()["bookmarked"] is False
    twice = await demo_client.post(f"/api/v1/statuses/{ids['question']}/unbookmark", headers=auth)
    assert twice.status_code == 200 and twice.json()["bookmarked"] is False
    empty = await demo_client.get("/api/v1/bookmarks", headers=auth)
    assert empty.json() == [] and "link" not in empty.headers


async def test_bookmarks_are_paged_by_when_they_were_made(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Newest bookmark first, whatever the posts' ages; `Link` pages by the bookmark's id."""
    ids = await _demo_ids(engine)
    auth = await _token(demo_client)
    order = ["project", "article", "question"]  # not the posts' order
    for name in order:
        assert (
            await demo_client.post(f"/api/v1/statuses/{ids[name]}/bookmark", headers=auth)
        ).status_code == 200

    first = await demo_client.get("/api/v1/bookmarks", params={"limit": "2"}, headers=auth)
    assert [s["id"] for s in first.json()] == [str(ids["question"]), str(ids["article"])]
    older = first.links["next"]["url"]
    second = await demo_client.get(older, headers=auth)
    assert [s["id"] for s in second.json()] == [str(ids["project"])]
    newer = await demo_client.get(second.links["prev"]["url"], headers=auth)
    assert [s["id"] for s in newer.json()] == [str(ids["question"]), str(ids["article"])]
    huge = await demo_client.get("/api/v1/bookmarks", params={"max_id": "9" * 18}, headers=auth)
    assert len(huge.json()) == 3  # an id beyond every row's is no bound
    assert (
        await demo_client.get("/api/v1/bookmarks", params={"max_id": "²"}, headers=auth)
    ).status_code == 422
    assert (
        await demo_client.get("/api/v1/bookmarks", params={"limit": "²"}, headers=auth)
    ).status_code == 422


async def test_what_the_member_may_not_read_cannot_be_bookmarked_or_listed(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    secret = await publish_as(
        engine, config, "grace", Draft(kind="note", body="followers only", visibility="followers")
    )
    gone = await publish_as(engine, config, "grace", Draft(kind="note", body="soon deleted"))
    auth = await _token(demo_client)  # ada does not follow grace
    refused = await demo_client.post(f"/api/v1/statuses/{secret.id}/bookmark", headers=auth)
    assert refused.status_code == 404 and refused.json() == {"error": "Record not found"}
    assert (await demo_client.post("/api/v1/statuses/2147483648/bookmark", headers=auth)).status_code == 404

    assert (await demo_client.post(f"/api/v1/statuses/{gone.id}/bookmark", headers=auth)).status_code == 200
    async with session_factory(engine)() as session, session.begin():
        await posts.delete(
            session, config, await find_local_actor(session, "grace"), await session.get(Object, gone.id)
        )
    assert (await demo_client.get("/api/v1/bookmarks", headers=auth)).json() == []
    assert (await demo_client.post(f"/api/v1/statuses/{gone.id}/bookmark", headers=auth)).status_code == 404


async def test_bookmarks_need_their_scopes(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ids = await _demo_ids(engine)
    read_only = await _token(demo_client, scope="read:bookmarks")
    write_only = await _token(demo_client, scope="write:bookmarks")
    path = f"/api/v1/statuses/{ids['article']}/bookmark"
    assert (await demo_client.post(path, headers=read_only)).status_code == 403
    assert (await demo_client.get("/api/v1/bookmarks", headers=write_only)).status_code == 403
    assert (await demo_client.get("/api/v1/bookmarks")).status_code == 401
    assert (await demo_client.post(path, headers=write_only)).status_code == 200
    assert [s["id"] for s in (await demo_client.get("/api/v1/bookmarks", headers=read_only)).json()] == [
        str(ids["article"])
    ]


async def test_two_bookmarks_at_once_make_one(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    ids = await _demo_ids(engine)
    auth = await _token(demo_client)
    path = f"/api/v1/statuses/{ids['answer']}/bookmark"
    answers = await asyncio.gather(*(demo_client.post(path, headers=auth) for _ in range(4)))
    assert [response.status_code for response in answers] == [200] * 4
    assert await _count(engine, Bookmark) == 1
