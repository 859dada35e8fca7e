"""Who favourited or reblogged a status, and the member's favourites: newest first, paged by
the like's or reblog's id with Link headers; a status the reader may not read is a 404, accounts
on blocked domains are left out, posts no longer readable leave the favourites."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import DomainBlock, Interaction
from tests.support import remote_actor
from tests.web.mastodon.test_follow_lists import _every_page
from tests.web.mastodon.test_markers import token_of
from tests.web.mastodon.test_posting import _token, demo_post, publish_as


async def _reacted_by_others(engine: AsyncEngine, post_id: int, kind: str) -> dict[str, str]:
    """kim and lee (lab.example) and spam (a blocked domain) like or reblog the post, in that
    order; their account ids by name."""
    async with session_factory(engine)() as session, session.begin():
        kim, lee = remote_actor("kim", "lab.example"), remote_actor("lee", "lab.example")
        spam = remote_actor("spam", "bad.example")
        session.add_all([kim, lee, spam, DomainBlock(domain="bad.example")])
        await session.flush()
        for actor in (kim, lee, spam):
            session.add(Interaction(kind=kind, actor_id=actor.id, object_id=post_id))
            await session.flush()
        return {actor.username: str(actor.id) for actor in (kim, lee, spam)}


@pytest.mark.parametrize(
    ("kind", "path", "action"),
    [("like", "favourited_by", "favourite"), ("announce", "reblogged_by", "reblog")],
)
async def test_who_favourited_or_reblogged_newest_first_blocked_domains_left_out(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, kind: str, path: str, action: str
) -> None:
    question = await demo_post(engine, "question")
    others = await _reacted_by_others(engine, question.id, kind)
    auth = await _token(demo_client)
    assert (
        await demo_client.post(f"/api/v1/statuses/{question.id}/{action}", headers=auth)
    ).status_code == 200
    ada = (await demo_client.get("/api/v1/accounts/verify_credentials", headers=auth)).json()["id"]

    url = f"/api/v1/statuses/{question.id}/{path}"
    listed = await demo_client.get(url)  # anyone may ask, for a status anyone may read
    assert listed.status_code == 200, listed.text
    assert [account["id"] for account in listed.json()] == [ada, others["lee"], others["kim"]]
    assert [account["acct"] for account in listed.json()][1:] == ["lee@lab.example", "kim@lab.example"]
    assert await _every_page(demo_client, url) == [ada, others["lee"], others["kim"]]
    older = await demo_client.get(
        url, params={"limit": 1, "max_id": listed.headers["link"].split("max_id=")[1].split(">")[0]}
    )
    assert older.status_code == 200 and older.json() == []  # the Link's next is past the last


async def test_nobody_favourited_is_an_empty_list(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    article = await demo_post(engine, "article")
    for path in ("favourited_by", "reblogged_by"):
        response = await demo_client.get(f"/api/v1/statuses/{article.id}/{path}")
        assert response.status_code == 200 and response.json() == [] and "link" not in response.headers


async def test_a_status_the_reader_may_not_read_is_404(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    hidden = await publish_as(
        engine, config, "grace", Draft(kind="note", body="for followers", visibility="followers")
    )
    await _reacted_by_others(engine, hidden.id, "like")
    ada = await _token(demo_client)  # ada does not follow grace
    for path in ("favourited_by", "reblogged_by"):
        for headers in ({}, ada):
            response = await demo_client.get(f"/api/v1/statuses/{hidden.id}/{path}", headers=headers)
            assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    grace = await token_of(demo_client, engine, "grace")
    assert (
        len((await demo_client.get(f"/api/v1/statuses/{hidden.id}/favourited_by", headers=grace)).json()) == 2
    )


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"limit": "abc"}, 422),
        ({"limit": "-1"}, 422),
        ({"limit": "99999999999999999999"}, 200),  # beyond the maximum is the maximum
        ({"limit": "0"}, 200),
        ({"limit": "1000"}, 200),
        ({"max_id": "x"}, 422),
        ({"since_id": "１"}, 422),
        ({"min_id": "9" * 18}, 200),
        ({"max_id": "9" * 19}, 422),
    ],
)
async def test_paging_values_are_checked_on_both_backends(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, query: dict[str, str], status: int
) -> None:
    question = await demo_post(engine, "question")
    auth = await _token(demo_client)
    for url, headers in (
        (f"/api/v1/statuses/{question.id}/favourited_by", {}),
        (f"/api/v1/statuses/{question.id}/reblogged_by", {}),
        ("/api/v1/favourites", auth),
    ):
        response = await demo_client.get(url, params=query, headers=headers)
        assert response.status_code == status, (url, response.text)
        if status == 422:
            assert set(response.json()) == {"error"}


@pytest.mark.parametrize("status_id", ["abc", "0", "99999999999", "9" * 30, "%00"])
async def test_ids_of_no_status_are_404(demo_client: httpx.AsyncClient, status_id: str) -> None:
    for path in ("favourited_by", "reblogged_by"):
        response = await demo_client.get(f"/api/v1/statuses/{status_id}/{path}")
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_the_members_favourites_newest_favourite_first(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    question, article = await demo_post(engine, "question"), await demo_post(engine, "article")
    hidden = await publish_as(
        engine, config, "grace", Draft(kind="note", body="followers", visibility="followers")
    )
    async with session_factory(engine)() as session, session.begin():
        ada = await find_local_actor(session, "ada")
        session.add(
            Interaction(kind="like", actor_id=ada.id, object_id=hidden.id)
        )  # liked while she could read it
    auth = await _token(demo_client)
    for post in (article, question):
        assert (
            await demo_client.post(f"/api/v1/statuses/{post.id}/favourite", headers=auth)
        ).status_code == 200
    deleted = (await demo_client.post("/api/v1/statuses", json={"status": "mine"}, headers=auth)).json()
    assert (
        await demo_client.post(f"/api/v1/statuses/{deleted['id']}/favourite", headers=auth)
    ).status_code == 200
    assert (await demo_client.delete(f"/api/v1/statuses/{deleted['id']}", headers=auth)).status_code == 200

    listed = await demo_client.get("/api/v1/favourites", headers=auth)
    assert listed.status_code == 200, listed.text
    shown: list[dict[str, Any]] = listed.json()
    assert [s["id"] for s in shown] == [str(question.id), str(article.id)]
    assert all(s["favourited"] is True for s in shown)
    one = await demo_client.get("/api/v1/favourites", params={"limit": 1}, headers=auth)
    assert [s["id"] for s in one.json()] == [str(question.id)]
    next_url = one.headers["link"].split(";")[0].strip("<>")
    assert [s["id"] for s in (await demo_client.get(next_url, headers=auth)).json()] == [str(article.id)]

    assert (
        await demo_client.post(f"/api/v1/statuses/{question.id}/unfavourite", headers=auth)
    ).status_code == 200
    assert [s["id"] for s in (await demo_client.get("/api/v1/favourites", headers=auth)).json()] == [
        str(article.id)
    ]


async def test_favourites_want_a_members_token_with_read_favourites(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get("/api/v1/favourites")).status_code == 401
    write_only = await _token(demo_client, scope="write")
    assert (await demo_client.get("/api/v1/favourites", headers=write_only)).status_code == 403
    narrow = await _token(demo_client, scope="read:favourites")
    assert (await demo_client.get("/api/v1/favourites", headers=narrow)).status_code == 200
