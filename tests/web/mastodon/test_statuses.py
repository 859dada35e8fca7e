"""Statuses as Mastodon apps read them: one status, its context (the accepted answer first),
an account's statuses, the public timeline with Link pagination, and visibility kept."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Object


async def _ids_of(engine: AsyncEngine, *slugs: str) -> dict[str, str]:
    async with session_factory(engine)() as session:
        rows = await session.execute(select(Object.uri, Object.id))
        by_uri = {uri: str(row_id) for uri, row_id in rows}
    return {slug: next(v for k, v in by_uri.items() if k.endswith(f"/objects/{slug}")) for slug in slugs}


async def test_an_article_is_a_status_with_a_card_and_a_link(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    ids = await _ids_of(engine, "demo-article", "demo-project")
    article = (await demo_client.get(f"/api/v1/statuses/{ids['demo-article']}")).json()
    assert article["id"] == ids["demo-article"] and article["visibility"] == "public"
    assert "<strong>Speech recognition for languages with little data</strong>" in article["content"]
    assert article["card"]["url"] == article["url"] and article["card"]["title"].startswith("Speech")
    assert article["card"]["authors"] == []  # Mastodon 4.3's PreviewCard; masto.js declares it
    assert article["account"]["acct"] and article["created_at"].endswith("Z")
    project = (await demo_client.get(f"/api/v1/statuses/{ids['demo-project']}")).json()
    assert "Project call:" in project["content"] and project["card"] is not None


async def test_the_context_of_a_question_shows_its_answers(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    ids = await _ids_of(engine, "demo-question", "demo-answer")
    question = await demo_client.get(f"/api/v1/statuses/{ids['demo-question']}/context")
    assert question.status_code == 200
    assert question.json()["ancestors"] == []
    assert [s["id"] for s in question.json()["descendants"]][:1] == [ids["demo-answer"]]
    answer = (await demo_client.get(f"/api/v1/statuses/{ids['demo-answer']}/context")).json()
    assert [s["id"] for s in answer["ancestors"]] == [ids["demo-question"]]
    shown = (await demo_client.get(f"/api/v1/statuses/{ids['demo-answer']}")).json()
    assert shown["in_reply_to_id"] == ids["demo-question"]


async def test_followers_only_posts_are_not_shown_to_anyone(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        secret = Object(
            uri="http://127.0.0.1:8000/objects/secret",
            type="Note",
            kind="note",
            author_id=ada.id,
            local=True,
            content="<p>for followers</p>",
            visibility="followers",
        )
        session.add(secret)
        await session.flush()
        secret_id = secret.id
    response = await demo_client.get(f"/api/v1/statuses/{secret_id}")
    assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    timeline = (await demo_client.get("/api/v1/timelines/public", params={"limit": 40})).json()
    assert str(secret_id) not in [s["id"] for s in timeline]
    ada_id = (await demo_client.get("/api/v1/accounts/lookup", params={"acct": "ada"})).json()["id"]
    statuses = (await demo_client.get(f"/api/v1/accounts/{ada_id}/statuses")).json()
    assert statuses and str(secret_id) not in [s["id"] for s in statuses]


async def test_the_public_timeline_pages_with_link_headers(demo_client: httpx.AsyncClient) -> None:
    everything = (await demo_client.get("/api/v1/timelines/public", params={"limit": 40})).json()
    assert len(everything) >= 3
    ids = [int(s["id"]) for s in everything]
    assert ids == sorted(ids, reverse=True)

    first = await demo_client.get("/api/v1/timelines/public", params={"limit": 2})
    assert [s["id"] for s in first.json()] == [str(i) for i in ids[:2]]
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["link"]))
    second = await demo_client.get(links["next"])
    assert [s["id"] for s in second.json()] == [str(i) for i in ids[2:4]]
    newer = await demo_client.get("/api/v1/timelines/public", params={"min_id": ids[2], "limit": 1})
    assert [s["id"] for s in newer.json()] == [str(ids[1])]  # the next newer one, not the newest
    local = (await demo_client.get("/api/v1/timelines/public", params={"local": "true"})).json()
    assert local and all(s["account"]["acct"].count("@") == 0 for s in local)


async def test_bad_ids_and_paging_values_are_refused_clearly(demo_client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/statuses/abc", "/api/v1/statuses/999999999", "/api/v1/statuses/1" + "0" * 30):
        response = await demo_client.get(path)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    bad = await demo_client.get("/api/v1/timelines/public", params={"max_id": "x'--"})
    assert bad.status_code == 422 and bad.json() == {"error": "max_id must be an id"}
    capped = await demo_client.get("/api/v1/timelines/public", params={"limit": 500})
    assert capped.status_code == 200 and len(capped.json()) <= 40


async def test_the_tag_timeline_finds_hashtags_and_skills(demo_client: httpx.AsyncClient) -> None:
    project = next(
        s
        for s in (await demo_client.get("/api/v1/timelines/public", params={"limit": 40})).json()
        if "Project call:" in s["content"]
    )
    tagged = (await demo_client.get("/api/v1/timelines/tag/SpeechRecognition")).json()
    assert project["id"] in [s["id"] for s in tagged]
    assert (await demo_client.get("/api/v1/timelines/tag/NoSuchTopicAnywhere")).json() == []
