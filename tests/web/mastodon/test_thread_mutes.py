"""Muting a conversation (`POST /api/v1/statuses/:id/mute`, `/unmute`): `muted` on the status, and
no notification from the thread while it is muted (domain/thread_mutes.py, applied by
domain/notifications.py), in v1, v2 and the unread counts alike."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import ThreadMute
from talentfed.web.mastodon.reblogs import REBLOG_IDS
from tests.web.mastodon.test_markers import token_of
from tests.web.mastodon.test_notifications import T0, Scene, _kims, _token, make_scene


@pytest.fixture
async def scene(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> Scene:
    return await make_scene(engine)


async def _types(client: httpx.AsyncClient, auth: dict[str, str], scene: Scene) -> list[str]:
    return sorted(n["type"] for n in (await _kims(client, auth, scene)).json())


async def _unread(client: httpx.AsyncClient, auth: dict[str, str], version: str) -> int:
    answer = await client.get(f"/api/{version}/notifications/unread_count", headers=auth)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["count"])


async def test_a_muted_thread_notifies_nothing_until_unmuted(
    demo_client: httpx.AsyncClient, scene: Scene
) -> None:
    auth = await _token(demo_client)
    assert await _types(demo_client, auth, scene) == ["favourite", "follow", "mention", "mention"]
    unread = (await _unread(demo_client, auth, "v1"), await _unread(demo_client, auth, "v2"))

    muted = await demo_client.post(f"/api/v1/statuses/{scene.post}/mute", headers=auth)
    assert muted.status_code == 200 and muted.json()["muted"] is True
    assert (await demo_client.get(f"/api/v1/statuses/{scene.post}", headers=auth)).json()["muted"] is True
    # The like of ada's post and the reply to it are in its thread; the follow and the mention
    # (another thread) are not.
    assert await _types(demo_client, auth, scene) == ["follow", "mention"]
    grouped = (await demo_client.get("/api/v2/notifications", headers=auth)).json()["notification_groups"]
    assert "favourite" not in {group["type"] for group in grouped}
    assert await _unread(demo_client, auth, "v1") == unread[0] - 2
    assert await _unread(demo_client, auth, "v2") == unread[1] - 2
    # Muting again changes nothing; the mention's own thread is another one.
    assert (await demo_client.post(f"/api/v1/statuses/{scene.post}/mute", headers=auth)).status_code == 200
    assert (await demo_client.get(f"/api/v1/statuses/{scene.mentioning}", headers=auth)).json()[
        "muted"
    ] is False

    unmuted = await demo_client.post(f"/api/v1/statuses/{scene.post}/unmute", headers=auth)
    assert unmuted.status_code == 200 and unmuted.json()["muted"] is False
    assert await _types(demo_client, auth, scene) == ["favourite", "follow", "mention", "mention"]
    again = await demo_client.post(f"/api/v1/statuses/{scene.post}/unmute", headers=auth)
    assert again.status_code == 200 and again.json()["muted"] is False  # nothing to undo: no error


async def test_a_reply_mutes_the_whole_thread(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    """Muting kim's reply mutes the thread of ada's post it replies to (they share a thread)."""
    auth = await _token(demo_client)
    assert (await demo_client.post(f"/api/v1/statuses/{scene.reply}/mute", headers=auth)).status_code == 200
    assert (await demo_client.get(f"/api/v1/statuses/{scene.post}", headers=auth)).json()["muted"] is True
    assert await _types(demo_client, auth, scene) == ["follow", "mention"]


async def test_notifications_from_before_the_mute_stay(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    auth = await _token(demo_client)
    assert (await demo_client.post(f"/api/v1/statuses/{scene.post}/mute", headers=auth)).status_code == 200
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(ThreadMute).values(created_at=T0 + timedelta(days=1)))
    assert await _types(demo_client, auth, scene) == ["favourite", "follow", "mention", "mention"]


async def test_muting_a_reblogs_id_mutes_the_reblogged_thread(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, scene: Scene
) -> None:
    grace = await token_of(demo_client, engine, "grace")
    wrapper = await demo_client.post(f"/api/v1/statuses/{scene.post}/reblog", headers=grace)
    assert wrapper.status_code == 200, wrapper.text
    auth = await _token(demo_client)
    muted = await demo_client.post(f"/api/v1/statuses/{wrapper.json()['id']}/mute", headers=auth)
    assert muted.status_code == 200 and muted.json()["id"] == scene.post and muted.json()["muted"] is True


@pytest.mark.parametrize("status_id", ["0", "-1", "abc", "9" * 30, str(REBLOG_IDS), "１"])
async def test_ids_of_no_status_are_404(demo_client: httpx.AsyncClient, status_id: str) -> None:
    auth = await _token(demo_client)
    for action in ("mute", "unmute"):
        answer = await demo_client.post(f"/api/v1/statuses/{status_id}/{action}", headers=auth)
        assert (answer.status_code, answer.json()) == (404, {"error": "Record not found"})


async def test_muting_needs_write_mutes(demo_client: httpx.AsyncClient, scene: Scene) -> None:
    assert (await demo_client.post(f"/api/v1/statuses/{scene.post}/mute")).status_code == 401
    read_only = await _token(demo_client, "read")
    assert (
        await demo_client.post(f"/api/v1/statuses/{scene.post}/mute", headers=read_only)
    ).status_code == 403
    follow = await _token(demo_client, "follow")  # Mastodon's `follow` grants write:mutes
    assert (await demo_client.post(f"/api/v1/statuses/{scene.post}/mute", headers=follow)).status_code == 200
