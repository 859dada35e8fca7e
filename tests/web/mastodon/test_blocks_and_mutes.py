"""Blocks and mutes through the client API: block, unblock, mute and unmute answer the
Relationship with `blocking`, `muting` and `muting_notifications` as they now stand; the
member's blocks and mutes page with a `Link` header; what is blocked or muted leaves the
notifications; refusals are Mastodon's. On both back-ends."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Follow
from tests.web.mastodon.test_notifications import Scene, _kims, _token, make_scene
from tests.web.mastodon.test_relationships import _account_id


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    return await make_scene(engine)


async def _sent_types(engine: AsyncEngine) -> list[str]:
    async with session_factory(engine)() as session:
        return sorted(await session.scalars(select(Activity.type).where(Activity.local.is_(True))))


async def test_block_and_unblock_a_remote_account(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    auth = await _token(demo_client)
    assert len((await _kims(demo_client, auth, scene)).json()) == 4

    blocked = await demo_client.post(f"/api/v1/accounts/{scene.kim}/block", headers=auth)
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["blocking"] is True and blocked.json()["followed_by"] is False
    assert (await _kims(demo_client, auth, scene)).json() == []  # nothing from kim any more
    async with session_factory(engine)() as session:
        follows_of_kim = select(Follow.followed_id).where(Follow.follower_id == int(scene.kim))
        ada = int(await _account_id(demo_client, "ada"))
        assert ada not in set(await session.scalars(follows_of_kim))  # grace's follower still
    undos = (await _sent_types(engine)).count("Undo")
    assert (await _sent_types(engine)).count("Block") == 1  # kim's follow had no id: no Reject

    listed = await demo_client.get("/api/v1/blocks", headers=auth)
    assert [account["id"] for account in listed.json()] == [scene.kim]
    assert 'rel="next"' in listed.headers["link"]
    relationship = await demo_client.get(
        "/api/v1/accounts/relationships", params={"id[]": scene.kim}, headers=auth
    )
    assert relationship.json()[0]["blocking"] is True

    unblocked = await demo_client.post(f"/api/v1/accounts/{scene.kim}/unblock", headers=auth)
    assert unblocked.status_code == 200 and unblocked.json()["blocking"] is False
    assert (await _sent_types(engine)).count("Undo") == undos + 1
    assert (await demo_client.get("/api/v1/blocks", headers=auth)).json() == []
    again = await demo_client.post(f"/api/v1/accounts/{scene.kim}/unblock", headers=auth)
    assert again.status_code == 200 and (await _sent_types(engine)).count("Undo") == undos + 1


async def test_mute_with_and_without_notifications(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    auth = await _token(demo_client)
    quiet = await demo_client.post(
        f"/api/v1/accounts/{scene.kim}/mute", json={"notifications": False}, headers=auth
    )
    assert quiet.status_code == 200, quiet.text
    assert (quiet.json()["muting"], quiet.json()["muting_notifications"]) == (True, False)
    assert len((await _kims(demo_client, auth, scene)).json()) == 4  # notifications still come

    loud = await demo_client.post(
        f"/api/v1/accounts/{scene.kim}/mute", data={"notifications": "true", "duration": "3600"}, headers=auth
    )
    assert (loud.json()["muting"], loud.json()["muting_notifications"]) == (True, True)
    assert (await _kims(demo_client, auth, scene)).json() == []
    muted = await demo_client.get("/api/v1/mutes", headers=auth)
    assert [account["id"] for account in muted.json()] == [scene.kim] and "link" in muted.headers

    unmuted = await demo_client.post(f"/api/v1/accounts/{scene.kim}/unmute", headers=auth)
    assert unmuted.json()["muting"] is False
    assert len((await _kims(demo_client, auth, scene)).json()) == 4
    assert (await demo_client.get("/api/v1/mutes", headers=auth)).json() == []


@pytest.mark.parametrize("action", ["block", "unblock", "mute", "unmute"])
async def test_unknown_accounts_and_oneself(demo_client: httpx.AsyncClient, action: str) -> None:
    auth = await _token(demo_client)
    for unknown in ("99999999", "2147483648", "99999999999999999999999", "abc"):
        answer = await demo_client.post(f"/api/v1/accounts/{unknown}/{action}", headers=auth)
        assert answer.status_code == 404 and answer.json() == {"error": "Record not found"}, unknown
    ada = await _account_id(demo_client, "ada")
    myself = await demo_client.post(f"/api/v1/accounts/{ada}/{action}", headers=auth)
    if action in ("block", "mute"):
        assert myself.status_code == 422 and "itself" in myself.json()["error"]
    else:
        assert myself.status_code == 200 and myself.json()["blocking"] is False


@pytest.mark.parametrize("duration", ["-5", "abc", "1.5", "315360001", "9" * 40])
async def test_a_bad_duration_is_refused(demo_client: httpx.AsyncClient, duration: str) -> None:
    auth = await _token(demo_client)
    alan = await _account_id(demo_client, "alan")
    answer = await demo_client.post(
        f"/api/v1/accounts/{alan}/mute", data={"duration": duration}, headers=auth
    )
    assert answer.status_code == 422 and "duration" in answer.json()["error"], answer.text
    bad_flag = await demo_client.post(
        f"/api/v1/accounts/{alan}/mute", data={"notifications": "maybe"}, headers=auth
    )
    assert bad_flag.status_code == 422 and "notifications" in bad_flag.json()["error"]


async def test_scopes(demo_client: httpx.AsyncClient) -> None:
    alan = await _account_id(demo_client, "alan")
    read_only = await _token(demo_client, scope="read")
    for action in ("block", "unblock", "mute", "unmute"):
        refused = await demo_client.post(f"/api/v1/accounts/{alan}/{action}", headers=read_only)
        assert refused.status_code == 403, action
    assert (await demo_client.get("/api/v1/blocks", headers=read_only)).status_code == 200
    blocks_only = await _token(demo_client, scope="write:blocks")
    assert (await demo_client.post(f"/api/v1/accounts/{alan}/block", headers=blocks_only)).status_code == 200
    assert (await demo_client.post(f"/api/v1/accounts/{alan}/mute", headers=blocks_only)).status_code == 403
    assert (await demo_client.get("/api/v1/blocks", headers=blocks_only)).status_code == 403
    legacy = await _token(demo_client, scope="follow")  # stands for read/write of blocks and mutes
    assert (await demo_client.get("/api/v1/mutes", headers=legacy)).status_code == 200
    assert (await demo_client.post(f"/api/v1/accounts/{alan}/mute", headers=legacy)).status_code == 200
    assert (await demo_client.get("/api/v1/blocks")).status_code == 401
