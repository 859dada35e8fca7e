"""Accounts as Mastodon apps read them: lookup by acct and by id, string ids, blocked domains
hidden, and clear 404s."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow
from tests.support import remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register


async def test_a_member_is_found_by_acct_and_by_id(demo_client: httpx.AsyncClient, config: Config) -> None:
    by_acct = await demo_client.get("/api/v1/accounts/lookup", params={"acct": "ada"})
    assert by_acct.status_code == 200
    ada = by_acct.json()
    assert ada["username"] == "ada" and ada["acct"] == "ada"
    assert isinstance(ada["id"], str) and ada["id"].isdigit()
    assert ada["url"].startswith(config.node.base_url) and ada["uri"].endswith("/users/ada")
    assert ada["statuses_count"] > 0
    assert ada["avatar"].startswith("http") and ada["created_at"].endswith(".000Z")

    by_id = await demo_client.get(f"/api/v1/accounts/{ada['id']}")
    assert by_id.json() == ada
    full = await demo_client.get("/api/v1/accounts/lookup", params={"acct": f"@ada@{config.node.domain}"})
    assert full.json()["id"] == ada["id"]


async def test_counts_follow_accepted_follows(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    async def ada_followers() -> int:
        response = await demo_client.get("/api/v1/accounts/lookup", params={"acct": "ada"})
        return int(response.json()["followers_count"])

    before = await ada_followers()
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        kim, eve = remote_actor("kim", "lab.example"), remote_actor("eve", "lab.example")
        session.add_all([kim, eve])
        await session.flush()
        session.add_all(
            [
                Follow(follower_id=kim.id, followed_id=ada.id, state="accepted"),
                Follow(follower_id=eve.id, followed_id=ada.id, state="pending"),  # not counted
            ]
        )
    assert await ada_followers() == before + 1
    kim = await demo_client.get("/api/v1/accounts/lookup", params={"acct": "kim@lab.example"})
    kim_account = kim.json()
    assert kim_account["acct"] == "kim@lab.example" and kim_account["following_count"] == 1


async def test_unknown_blocked_and_malformed_accounts_are_404(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        session.add(remote_actor("spam", "spam.example"))
        session.add(DomainBlock(domain="spam.example"))
    for params in ({"acct": "nobody"}, {"acct": "spam@spam.example"}, {"acct": "not a handle@"}):
        response = await demo_client.get("/api/v1/accounts/lookup", params=params)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    for account_id in ("999999", "abc", "1" * 40):
        response = await demo_client.get(f"/api/v1/accounts/{account_id}")
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}
    missing = await demo_client.get("/api/v1/accounts/lookup")
    assert missing.status_code == 422 and missing.json() == {"error": "acct is required"}


@pytest.mark.parametrize("odd", ["²", "2147483648", "999999999999999999"])
async def test_ids_no_row_can_have_name_nothing(demo_client: httpx.AsyncClient, odd: str) -> None:
    """Every id an app sends is read by `params.row_id`: not ASCII digits ("²" passes
    str.isdigit, not int()) or beyond PostgreSQL's integer names no row, on both back-ends."""
    app = await register(demo_client)
    auth = bearer((await member_token(demo_client, app))["access_token"])
    for path in (
        f"/api/v1/accounts/{odd}",
        f"/api/v1/accounts/{odd}/statuses",
        f"/api/v1/accounts/{odd}/follow",
    ):
        method = "POST" if path.endswith("/follow") else "GET"
        response = await demo_client.request(method, path, headers=auth)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}, path
    relationships = await demo_client.get(
        "/api/v1/accounts/relationships", params={"id[]": odd}, headers=auth
    )
    assert relationships.status_code == 200 and relationships.json() == []
    notifications = await demo_client.get("/api/v1/notifications", params={"account_id": odd}, headers=auth)
    assert notifications.status_code == 200 and notifications.json() == []
    search = await demo_client.get("/api/v2/search", params={"q": "speech", "account_id": odd}, headers=auth)
    assert search.status_code == 404
    reply = await demo_client.post(
        "/api/v1/statuses", json={"status": "hi", "in_reply_to_id": odd}, headers=auth
    )
    assert reply.status_code == 404
    paged = await demo_client.get("/api/v1/timelines/public", params={"max_id": odd})
    assert paged.status_code == (422 if odd == "²" else 200)
