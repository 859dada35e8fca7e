"""Followers, following and follow requests through the client API: paged with Link headers,
blocked domains left out; authorize accepts a request, reject removes it."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow
from tests.support import remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register


@dataclasses.dataclass
class Scene:
    ada: str  # account ids
    kim: str
    lee: str
    max: str
    spam: str


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    """kim follows ada and ada kim; spam (on a blocked domain) both ways; lee and max ask to
    follow ada."""
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        kim, lee, max_ = (remote_actor(name, "lab.example") for name in ("kim", "lee", "max"))
        spam = remote_actor("spam", "bad.example")
        session.add_all([kim, lee, max_, spam, DomainBlock(domain="bad.example")])
        await session.flush()
        session.add_all(
            [
                Follow(follower_id=kim.id, followed_id=ada.id, state="accepted"),
                Follow(follower_id=spam.id, followed_id=ada.id, state="accepted"),
                Follow(follower_id=ada.id, followed_id=kim.id, state="accepted"),
                Follow(follower_id=ada.id, followed_id=spam.id, state="accepted"),
                Follow(
                    follower_id=lee.id,
                    followed_id=ada.id,
                    state="pending",
                    uri="https://lab.example/follows/1",
                ),
                Follow(follower_id=max_.id, followed_id=ada.id, state="pending"),
            ]
        )
        return Scene(*(str(actor.id) for actor in (ada, kim, lee, max_, spam)))


async def _token(client: httpx.AsyncClient, scope: str = "read write follow") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _every_page(
    client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> list[str]:
    """The ids of every page, following the `next` links one account at a time."""
    ids: list[str] = []
    next_url: str | None = f"{url}?limit=1"
    while next_url and len(ids) < 100:
        response = await client.get(next_url, headers=headers or {})
        assert response.status_code == 200, response.text
        page = [account["id"] for account in response.json()]
        assert len(page) <= 1
        ids += page
        link = response.headers.get("link")
        next_url = link.split(";")[0].strip("<>") if link and page else None
    return ids


async def test_followers_and_following_page_and_leave_blocked_domains_out(
    demo_client: httpx.AsyncClient, scene: Scene
) -> None:
    followers = await _every_page(demo_client, f"/api/v1/accounts/{scene.ada}/followers")
    assert scene.kim in followers and scene.spam not in followers
    assert scene.lee not in followers  # pending
    assert len(followers) == len(set(followers))
    following = await _every_page(demo_client, f"/api/v1/accounts/{scene.ada}/following")
    assert following[0] == scene.kim and scene.spam not in following  # newest first
    kims = await demo_client.get(f"/api/v1/accounts/{scene.kim}/followers")
    assert [a["acct"] for a in kims.json()] == ["ada"]

    for missing in ("99999999", "abc", scene.spam):
        response = await demo_client.get(f"/api/v1/accounts/{missing}/followers")
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_follow_requests_authorize_and_reject(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    auth = await _token(demo_client)
    asked = await demo_client.get("/api/v1/follow_requests", headers=auth)
    assert asked.status_code == 200
    assert [a["id"] for a in asked.json()][:2] == [scene.max, scene.lee]
    assert "max_id=" in asked.headers["link"]

    authorized = await demo_client.post(f"/api/v1/follow_requests/{scene.lee}/authorize", headers=auth)
    assert authorized.status_code == 200, authorized.text
    assert authorized.json()["id"] == scene.lee and authorized.json()["followed_by"] is True
    rejected = await demo_client.post(f"/api/v1/follow_requests/{scene.max}/reject", headers=auth)
    assert rejected.status_code == 200 and rejected.json()["followed_by"] is False
    assert rejected.json()["requested_by"] is False

    async with session_factory(engine)() as session:
        states = dict(
            (
                await session.execute(
                    select(Follow.follower_id, Follow.state).where(Follow.followed_id == int(scene.ada))
                )
            ).all()
        )
    assert states[int(scene.lee)] == "accepted" and int(scene.max) not in states
    remaining = [a["id"] for a in (await demo_client.get("/api/v1/follow_requests", headers=auth)).json()]
    assert scene.lee not in remaining and scene.max not in remaining

    for account in (scene.lee, scene.max, "99999999", "abc"):  # no longer pending, unknown, no id
        again = await demo_client.post(f"/api/v1/follow_requests/{account}/authorize", headers=auth)
        assert again.status_code == 404


async def test_follow_requests_refusals(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    assert (await demo_client.get("/api/v1/follow_requests")).status_code == 401
    assert (await demo_client.post(f"/api/v1/follow_requests/{scene.lee}/reject")).status_code == 401
    reader = await _token(demo_client, scope="read")
    assert (await demo_client.get("/api/v1/follow_requests", headers=reader)).status_code == 200
    refused = await demo_client.post(f"/api/v1/follow_requests/{scene.lee}/authorize", headers=reader)
    assert refused.status_code == 403
    statuses_only = await _token(demo_client, scope="read:statuses")
    assert (await demo_client.get("/api/v1/follow_requests", headers=statuses_only)).status_code == 403
    bad_page = await demo_client.get(f"/api/v1/accounts/{scene.ada}/followers", params={"max_id": "x"})
    assert bad_page.status_code == 422
