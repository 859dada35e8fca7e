"""Posting through the client API goes through the domain's rules: a reply to a question is an
answer, audiences map to ours, refusals are 422s, delete gives the source back, favourites and
boosts count."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import Object
from tests.web.mastodon.test_oauth import bearer, member_token, register


async def _token(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def demo_post(engine: AsyncEngine, name: str) -> Object:
    """A post of the demo by its name: `article`, `question` (grace's), `answer`, `project`."""
    async with session_factory(engine)() as session:
        post = await session.scalar(select(Object).where(Object.uri.endswith(f"/objects/demo-{name}")))
    assert post is not None
    return post


async def publish_as(engine: AsyncEngine, config: Config, username: str, draft: posts.Draft) -> Object:
    """A post published by a member, as the web form would."""
    async with session_factory(engine)() as session, session.begin():
        author = await find_local_actor(session, username)
        return await posts.publish(session, config, author, draft)


async def _stored(engine: AsyncEngine, status_id: str) -> Object:
    async with session_factory(engine)() as session:
        row = await session.get(Object, int(status_id))
    assert row is not None
    return row


async def test_a_status_is_published_as_the_members_note(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    created = await demo_client.post(
        "/api/v1/statuses", json={"status": "Hello from an app", "visibility": "private"}, headers=auth
    )
    assert created.status_code == 200, created.text
    status = created.json()
    assert status["account"]["acct"] == "ada" and status["visibility"] == "private"
    row = await _stored(engine, status["id"])
    assert (row.kind, row.visibility, row.local, row.source) == (
        "note",
        "followers",
        True,
        "Hello from an app",
    )


async def test_a_reply_to_a_question_is_an_answer(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session:
        question = await session.scalar(select(Object).where(Object.uri.endswith("/objects/demo-question")))
    assert question is not None
    auth = await _token(demo_client)
    reply = await demo_client.post(
        "/api/v1/statuses",
        data={"status": "Use held-out languages.", "in_reply_to_id": str(question.id)},
        headers=auth,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["in_reply_to_id"] == str(question.id)
    assert (await _stored(engine, reply.json()["id"])).kind == "answer"


async def test_refusals_are_422_with_mastodons_shape(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    blank = await demo_client.post("/api/v1/statuses", json={"status": "  "}, headers=auth)
    assert blank.status_code == 422 and blank.json() == {
        "error": "Validation failed: body: the text is empty"
    }
    missing = await demo_client.post("/api/v1/statuses", json={}, headers=auth)
    assert missing.status_code == 422 and missing.json() == {
        "error": "Validation failed: Text can't be blank"
    }
    direct = await demo_client.post(
        "/api/v1/statuses", json={"status": "hi", "visibility": "direct"}, headers=auth
    )
    assert direct.status_code == 422 and "direct" in direct.json()["error"]
    unknown = await demo_client.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": "99999999"}, headers=auth
    )
    assert unknown.status_code == 404
    garbage = await demo_client.post(
        "/api/v1/statuses", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert garbage.status_code == 422 and garbage.json()["error"].startswith("Validation failed")
    read_only = await _token(demo_client, scope="read")
    assert (
        await demo_client.post("/api/v1/statuses", json={"status": "hi"}, headers=read_only)
    ).status_code == 403


async def test_delete_gives_the_source_back_for_redraft(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    status = (
        await demo_client.post("/api/v1/statuses", json={"status": "to be redrafted"}, headers=auth)
    ).json()
    deleted = await demo_client.delete(f"/api/v1/statuses/{status['id']}", headers=auth)
    assert deleted.status_code == 200 and deleted.json()["text"] == "to be redrafted"
    assert (await demo_client.get(f"/api/v1/statuses/{status['id']}")).status_code == 404


async def test_only_the_author_may_delete(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        graces = await session.scalar(select(Object).where(Object.uri.endswith("/objects/demo-question")))
    assert graces is not None
    ada = await _token(demo_client)  # the demo question is grace's
    response = await demo_client.delete(f"/api/v1/statuses/{graces.id}", headers=ada)
    assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    assert (await demo_client.get(f"/api/v1/statuses/{graces.id}")).status_code == 200


async def test_favourite_and_boost_count_and_undo(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session:
        article = await session.scalar(select(Object).where(Object.uri.endswith("/objects/demo-article")))
    assert article is not None
    auth = await _token(demo_client)
    before = (await demo_client.get(f"/api/v1/statuses/{article.id}")).json()
    liked = (await demo_client.post(f"/api/v1/statuses/{article.id}/favourite", headers=auth)).json()
    assert liked["favourites_count"] == before["favourites_count"] + 1
    again = (await demo_client.post(f"/api/v1/statuses/{article.id}/favourite", headers=auth)).json()
    assert again["favourites_count"] == liked["favourites_count"]  # once per member
    boosted = (await demo_client.post(f"/api/v1/statuses/{article.id}/reblog", headers=auth)).json()
    assert boosted["reblog"]["reblogs_count"] == before["reblogs_count"] + 1
    undone = (await demo_client.post(f"/api/v1/statuses/{article.id}/unfavourite", headers=auth)).json()
    assert undone["favourites_count"] == before["favourites_count"]
    twice = await demo_client.post(f"/api/v1/statuses/{article.id}/unfavourite", headers=auth)
    assert twice.status_code == 200
    unboosted = (await demo_client.post(f"/api/v1/statuses/{article.id}/unreblog", headers=auth)).json()
    assert unboosted["reblogs_count"] == before["reblogs_count"]


async def test_a_members_statuses_say_what_they_favourited_reblogged_and_pinned(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Mastodon adds favourited, reblogged, muted, bookmarked (and pinned on one's own statuses)
    for a signed-in reader; apps such as Mastodon.py read the state of their buttons there."""
    async with session_factory(engine)() as session:
        question = await session.scalar(select(Object).where(Object.uri.endswith("/objects/demo-question")))
    assert question is not None
    auth = await _token(demo_client)
    path = f"/api/v1/statuses/{question.id}"

    anonymous = (await demo_client.get(path)).json()
    assert "favourited" not in anonymous and "reblogged" not in anonymous

    fresh = (await demo_client.get(path, headers=auth)).json()
    assert (fresh["favourited"], fresh["reblogged"], fresh["muted"], fresh["bookmarked"]) == (
        False,
        False,
        False,
        False,
    )
    assert "pinned" not in fresh  # grace's question, not ada's
    liked = (await demo_client.post(f"{path}/favourite", headers=auth)).json()
    assert (liked["favourited"], liked["reblogged"]) == (True, False)
    boosted = (await demo_client.post(f"{path}/reblog", headers=auth)).json()
    assert (boosted["favourited"], boosted["reblogged"]) == (True, True)
    public = (await demo_client.get("/api/v1/timelines/public", headers=auth)).json()
    assert next(s for s in public if s["id"] == str(question.id))["reblogged"] is True
    unliked = (await demo_client.post(f"{path}/unfavourite", headers=auth)).json()
    assert (unliked["favourited"], unliked["reblogged"]) == (False, True)

    own = await demo_client.post("/api/v1/statuses", json={"status": "Mine"}, headers=auth)
    assert own.json()["pinned"] is False and own.json()["favourited"] is False
