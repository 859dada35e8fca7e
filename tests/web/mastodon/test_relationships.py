"""Follows through the client API: a member here is followed at once, one who approves by hand
shows as requested, unfollow undoes, relationships answer in the order asked."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow
from tests.web.mastodon.test_oauth import bearer, member_token, register


async def _token(client: httpx.AsyncClient, scope: str = "read write follow") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _account_id(client: httpx.AsyncClient, acct: str) -> str:
    return str((await client.get("/api/v1/accounts/lookup", params={"acct": acct})).json()["id"])


async def test_follow_unfollow_and_relationships(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    auth = await _token(demo_client)  # ada
    alan, grace = await _account_id(demo_client, "alan"), await _account_id(demo_client, "grace")
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Actor).where(Actor.id == int(alan)).values(manually_approves_followers=False)
        )
        await session.execute(
            update(Actor).where(Actor.id == int(grace)).values(manually_approves_followers=True)
        )
        await session.execute(delete(Follow).where(Follow.followed_id.in_([int(alan), int(grace)])))

    followed = await demo_client.post(f"/api/v1/accounts/{alan}/follow", headers=auth)
    assert followed.status_code == 200
    assert followed.json()["following"] is True and followed.json()["requested"] is False
    requested = await demo_client.post(f"/api/v1/accounts/{grace}/follow", headers=auth)
    assert requested.json()["following"] is False and requested.json()["requested"] is True

    both = await demo_client.get(
        "/api/v1/accounts/relationships",
        params=[("id[]", grace), ("id[]", "999999"), ("id[]", alan)],
        headers=auth,
    )
    assert [r["id"] for r in both.json()] == [grace, alan]

    unfollowed = await demo_client.post(f"/api/v1/accounts/{alan}/unfollow", headers=auth)
    assert unfollowed.json()["following"] is False
    again = await demo_client.post(f"/api/v1/accounts/{alan}/unfollow", headers=auth)
    assert again.status_code == 200 and again.json()["following"] is False


async def test_follow_refusals(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    ada = await _account_id(demo_client, "ada")
    myself = await demo_client.post(f"/api/v1/accounts/{ada}/follow", headers=auth)
    assert myself.status_code == 422 and "itself" in myself.json()["error"]
    nobody = await demo_client.post("/api/v1/accounts/99999999/follow", headers=auth)
    assert nobody.status_code == 404 and nobody.json() == {"error": "Record not found"}
    read_only = await _token(demo_client, scope="read")
    refused = await demo_client.post(f"/api/v1/accounts/{ada}/follow", headers=read_only)
    assert refused.status_code == 403
