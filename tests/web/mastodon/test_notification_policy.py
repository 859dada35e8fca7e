"""The notification policy (`/api/v2/notifications/policy`): stored per member
(domain/notification_policy.py) and applied to what the notifications endpoints answer
(domain/notifications.py); `/api/v1/notifications/requests` is empty, as no requests are kept."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, Object
from tests.web.mastodon.test_notifications import T0, Scene, _kims, _token, make_scene


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    return await make_scene(engine)


POLICY = "/api/v2/notifications/policy"
DEFAULT = {
    "for_not_following": "accept",
    "for_not_followers": "accept",
    "for_new_accounts": "accept",
    "for_private_mentions": "accept",
    "for_limited_accounts": "accept",
    "summary": {"pending_requests_count": 0, "pending_notifications_count": 0},
}


async def _types(client: httpx.AsyncClient, auth: dict[str, str], scene: Scene) -> list[str]:
    return sorted(n["type"] for n in (await _kims(client, auth, scene)).json())


async def _set(client: httpx.AsyncClient, auth: dict[str, str], **choices: str) -> dict[str, object]:
    answer = await client.patch(POLICY, data=choices, headers=auth)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_policy_is_kept_and_answered(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    assert (await demo_client.get(POLICY, headers=auth)).json() == DEFAULT
    changed = await _set(demo_client, auth, for_not_following="filter", for_new_accounts="drop")
    assert changed == {**DEFAULT, "for_not_following": "filter", "for_new_accounts": "drop"}
    as_json = await demo_client.patch(
        POLICY, json={"for_private_mentions": "drop", "unknown": "x"}, headers=auth
    )
    assert as_json.json() == {**changed, "for_private_mentions": "drop"}  # others kept, unknown ignored
    assert (await demo_client.get(POLICY, headers=auth)).json() == as_json.json()


async def test_not_following_hides_everything_from_strangers(
    demo_client: httpx.AsyncClient, scene: Scene
) -> None:
    auth = await _token(demo_client)
    every = ["favourite", "follow", "mention", "mention"]
    assert await _types(demo_client, auth, scene) == every
    for choice in ("filter", "drop"):  # no requests are kept: both hide
        await _set(demo_client, auth, for_not_following=choice)
        assert await _types(demo_client, auth, scene) == []
        grouped = (await demo_client.get("/api/v2/notifications", headers=auth)).json()
        assert scene.kim not in {a["id"] for a in grouped["accounts"]}
        unread = await demo_client.get(
            "/api/v1/notifications/unread_count", params={"account_id": scene.kim}, headers=auth
        )
        assert unread.json() == {"count": 0}
    await _set(demo_client, auth, for_not_following="accept")
    assert await _types(demo_client, auth, scene) == every


async def test_not_following_spares_people_the_member_follows(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        session.add(Follow(follower_id=ada.id, followed_id=int(scene.kim), state="accepted"))
    auth = await _token(demo_client)
    await _set(
        demo_client, auth, for_not_following="drop", for_private_mentions="drop", for_new_accounts="drop"
    )
    assert await _types(demo_client, auth, scene) == ["favourite", "follow", "mention", "mention"]


async def test_not_followers_counts_a_follow_of_three_days(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    """kim follows ada from a minute before his other notifications: too new a follower. Three
    days earlier, he is one; his follow's own notification still comes from someone who had
    followed for less than three days, and stays hidden (as on Mastodon)."""
    auth = await _token(demo_client)
    await _set(demo_client, auth, for_not_followers="drop")
    assert await _types(demo_client, auth, scene) == []
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Follow)
            .where(Follow.follower_id == int(scene.kim))
            .values(created_at=T0 - timedelta(days=3))
        )
    assert await _types(demo_client, auth, scene) == ["favourite", "mention", "mention"]


async def test_new_accounts_and_private_mentions(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    auth = await _token(demo_client)
    await _set(demo_client, auth, for_new_accounts="drop", for_private_mentions="filter")
    assert len(await _types(demo_client, auth, scene)) == 4  # kim is years old; nothing is direct
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Object).where(Object.id == int(scene.mentioning)).values(visibility="direct")
        )
    assert await _types(demo_client, auth, scene) == ["favourite", "follow", "mention"]  # the reply stays
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            update(Actor).where(Actor.id == int(scene.kim)).values(published=T0 - timedelta(days=29))
        )
    assert await _types(demo_client, auth, scene) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"data": {"for_not_following": "maybe"}}, "for_not_following: expected one of accept, filter, drop"),
        ({"data": {"for_new_accounts": ""}}, "for_new_accounts: expected one of accept, filter, drop"),
        ({"json": {"for_not_followers": ["accept", "drop"]}}, "for_not_followers: given more than once"),
        ({"json": {"for_not_followers": 1}}, "for_not_followers: expected one of"),
        ({"data": {"for_limited_accounts": "accept\x00"}}, "Validation failed"),
        ({"content": b"{", "headers": {"content-type": "application/json"}}, "not JSON"),
    ],
)
async def test_bad_choices_are_refused_and_change_nothing(
    demo_client: httpx.AsyncClient, body: dict[str, object], says: str
) -> None:
    auth = await _token(demo_client)
    body = dict(body)  # the parameters are shared by both back-ends' runs
    headers = {**auth, **body.pop("headers", {})}  # type: ignore[dict-item]
    refused = await demo_client.patch(POLICY, headers=headers, **body)  # type: ignore[arg-type]
    assert refused.status_code == 422 and says in refused.json()["error"], refused.text
    assert (await demo_client.get(POLICY, headers=auth)).json() == DEFAULT


async def test_scopes_and_requests(demo_client: httpx.AsyncClient) -> None:
    assert (await demo_client.get(POLICY)).status_code == 401
    assert (await demo_client.patch(POLICY, data={"for_not_following": "drop"})).status_code == 401
    read_only = await _token(demo_client, "read")
    assert (await demo_client.get(POLICY, headers=read_only)).status_code == 200
    refused = await demo_client.patch(POLICY, data={"for_not_following": "drop"}, headers=read_only)
    assert refused.status_code == 403
    write_only = await _token(demo_client, "write")
    assert (await demo_client.get(POLICY, headers=write_only)).status_code == 403
    requests = await demo_client.get("/api/v1/notifications/requests", headers=read_only)
    assert (requests.status_code, requests.json()) == (200, [])
    assert (await demo_client.get("/api/v1/notifications/requests")).status_code == 401
