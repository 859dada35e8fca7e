"""Notifications through the client API: a remote follow, a like, a mention and a reply shown
as Mastodon's types with their account and status; filters, paging by id, dismiss and clear;
and the refusals (scopes, tokens, ids)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.notifications import FOLLOWS, NotificationKey
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, Follow, Interaction
from tests.support import post_row, remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register

T0 = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)  # after everything the demo holds


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclasses.dataclass
class Scene:
    kim: str  # account ids
    spam: str
    post: str  # ada's post, liked and replied to
    mentioning: str  # kim's post mentioning ada
    reply: str  # kim's reply to ada's post
    graces: str  # a notification id of grace's, not ada's


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    return await make_scene(engine)


async def make_scene(engine: AsyncEngine) -> Scene:
    """kim (elsewhere) follows ada, likes her post, mentions her and replies to her; spam, on a
    blocked domain, follows her too."""
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        grace = await session.scalar(select(Actor).where(Actor.username == "grace", Actor.local.is_(True)))
        assert ada is not None and grace is not None
        kim, spam = remote_actor("kim", "lab.example"), remote_actor("spam", "bad.example")
        session.add_all([kim, spam, DomainBlock(domain="bad.example")])
        await session.flush()
        post = post_row(ada, "api-notified", local=True, content="<p>Mine</p>", published=_at(0))
        mentioning = post_row(kim, "mentioning", content="<p>Hello @ada</p>", published=_at(3))
        session.add_all([post, mentioning])
        await session.flush()
        reply = post_row(kim, "reply", in_reply_to_uri=post.uri, content="<p>Nice</p>", published=_at(4))
        graces_follow = Follow(follower_id=kim.id, followed_id=grace.id, state="accepted", created_at=_at(5))
        session.add_all(
            [
                reply,
                graces_follow,
                Follow(follower_id=kim.id, followed_id=ada.id, state="accepted", created_at=_at(1)),
                Follow(follower_id=spam.id, followed_id=ada.id, state="accepted", created_at=_at(6)),
                Interaction(
                    kind="like", actor_id=kim.id, object_id=post.id, target_actor_id=ada.id, created_at=_at(2)
                ),
                Interaction(
                    kind="mention",
                    actor_id=kim.id,
                    object_id=mentioning.id,
                    target_actor_id=ada.id,
                    created_at=_at(3),
                ),
            ]
        )
        await session.flush()
        graces = NotificationKey(_at(5), FOLLOWS, graces_follow.id).id
        return Scene(str(kim.id), str(spam.id), str(post.id), str(mentioning.id), str(reply.id), graces)


async def _token(client: httpx.AsyncClient, scope: str = "read write follow") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _kims(
    client: httpx.AsyncClient, auth: dict[str, str], scene: Scene, **params: str
) -> httpx.Response:
    response = await client.get(
        "/api/v1/notifications", params={"account_id": scene.kim, **params}, headers=auth
    )
    assert response.status_code == 200, response.text
    return response


async def test_types_accounts_and_statuses(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    found = (await _kims(demo_client, auth, scene)).json()
    assert [n["type"] for n in found] == ["mention", "mention", "favourite", "follow"]
    assert {n["account"]["id"] for n in found} == {scene.kim}
    assert [n.get("status", {}).get("id") for n in found] == [scene.reply, scene.mentioning, scene.post, None]
    assert "status" not in found[3]
    assert found[0]["status"]["in_reply_to_id"] == scene.post
    assert found[0]["created_at"] == "2031-01-01T12:04:00.000Z"
    assert all(n["id"].isdigit() and len(n["id"]) == len(found[0]["id"]) for n in found)
    assert found == sorted(found, key=lambda n: n["id"], reverse=True)  # ids ordered as times

    everyone = await demo_client.get("/api/v1/notifications", params={"limit": "80"}, headers=auth)
    assert scene.spam not in {n["account"]["id"] for n in everyone.json()}  # blocked domain
    again = await demo_client.get(f"/api/v1/notifications/{found[1]['id']}", headers=auth)
    assert again.status_code == 200 and again.json() == found[1]


async def test_types_and_exclude_types(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    mentions = (await _kims(demo_client, auth, scene, **{"types[]": "mention"})).json()
    assert [n["status"]["id"] for n in mentions] == [scene.reply, scene.mentioning]
    response = await demo_client.get(
        "/api/v1/notifications",
        params=[("account_id", scene.kim), ("exclude_types[]", "mention"), ("exclude_types[]", "follow")],
        headers=auth,
    )
    assert [n["type"] for n in response.json()] == ["favourite"]
    assert (await _kims(demo_client, auth, scene, **{"types[]": "poll"})).json() == []
    assert (await _kims(demo_client, auth, scene, account_id="abc")).json() == []


async def test_paging_with_link_headers(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    every = [n["id"] for n in (await _kims(demo_client, auth, scene)).json()]
    first = await _kims(demo_client, auth, scene, limit="3")
    assert [n["id"] for n in first.json()] == every[:3]
    link = first.headers["link"]
    assert f"max_id={every[2]}" in link and f"min_id={every[0]}" in link and "account_id=" in link
    older = await demo_client.get(link.split(";")[0].strip("<>"), headers=auth)
    assert [n["id"] for n in older.json()] == every[3:]
    newer = await _kims(demo_client, auth, scene, min_id=every[3], limit="2")
    assert [n["id"] for n in newer.json()] == every[1:3]  # the two next to min_id, newest first
    since = await _kims(demo_client, auth, scene, since_id=every[3], limit="2")
    assert [n["id"] for n in since.json()] == every[:2]  # the newest two
    empty = await _kims(demo_client, auth, scene, min_id=every[0])
    assert empty.json() == [] and "link" not in empty.headers


async def test_dismiss_one_then_clear_all(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    every = [n["id"] for n in (await _kims(demo_client, auth, scene)).json()]
    dismissed = await demo_client.post(f"/api/v1/notifications/{every[1]}/dismiss", headers=auth)
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert [n["id"] for n in (await _kims(demo_client, auth, scene)).json()] == [every[0], *every[2:]]
    assert (await demo_client.get(f"/api/v1/notifications/{every[1]}", headers=auth)).status_code == 404
    twice = await demo_client.post(f"/api/v1/notifications/{every[1]}/dismiss", headers=auth)
    assert twice.status_code == 404

    cleared = await demo_client.post("/api/v1/notifications/clear", headers=auth)
    assert cleared.status_code == 200 and cleared.json() == {}
    assert (await demo_client.get("/api/v1/notifications", headers=auth)).json() == []
    again = await demo_client.post("/api/v1/notifications/clear", headers=auth)
    assert again.status_code == 200


async def test_refusals(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    others = await demo_client.get(f"/api/v1/notifications/{scene.graces}", headers=auth)
    assert others.status_code == 404 and others.json() == {"error": "Record not found"}
    not_mine = await demo_client.post(f"/api/v1/notifications/{scene.graces}/dismiss", headers=auth)
    assert not_mine.status_code == 404
    for bad in ("abc", "12", "9" * 29, "0" * 18 + "7" + "1"):
        assert (await demo_client.get(f"/api/v1/notifications/{bad}", headers=auth)).status_code == 404
    for name in ("max_id", "since_id", "min_id"):
        malformed = await demo_client.get("/api/v1/notifications", params={name: "x1"}, headers=auth)
        assert malformed.status_code == 422
    assert (
        await demo_client.get("/api/v1/notifications", params={"limit": "x"}, headers=auth)
    ).status_code == 422

    assert (await demo_client.get("/api/v1/notifications")).status_code == 401
    assert (await demo_client.post("/api/v1/notifications/clear")).status_code == 401
    reader = await _token(demo_client, scope="read:notifications")
    assert (await demo_client.get("/api/v1/notifications", headers=reader)).status_code == 200
    assert (await demo_client.post("/api/v1/notifications/clear", headers=reader)).status_code == 403
    writer = await _token(demo_client, scope="write")
    assert (await demo_client.get("/api/v1/notifications", headers=writer)).status_code == 403
