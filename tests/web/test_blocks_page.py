"""Blocks and mutes in the browser (the demo's ada and grace): the profile's Block and Mute
buttons (with the session's CSRF token), /settings/blocks listing both with undo, refusals next
to their field, and what grace then reads of ada's profile. On both back-ends."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import AccountBlock, AccountMute
from tests.web.test_pages import field_error, form_post, sign_in


async def _id_of(engine: AsyncEngine, username: str) -> str:
    async with session_factory(engine)() as session:
        return str((await find_local_actor(session, username)).id)


async def _rows(engine: AsyncEngine, model: type) -> int:
    async with session_factory(engine)() as session:
        return len(list(await session.scalars(select(model))))


async def test_block_and_mute_from_a_profile_and_undo_them_in_settings(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    grace = await _id_of(engine, "grace")
    await sign_in(demo_client, "ada")
    profile = await demo_client.get("/@grace")
    assert 'value="block"' in profile.text and 'value="mute"' in profile.text

    blocked = await form_post(
        demo_client, "/@grace", "/settings/blocks", {"action": "block", "account": grace, "back": "/@grace"}
    )
    assert blocked.status_code == 303 and blocked.headers["location"] == "/@grace"
    assert 'value="unblock"' in (await demo_client.get("/@grace")).text
    muted = await form_post(demo_client, "/@grace", "/settings/blocks", {"action": "mute", "account": grace})
    assert muted.status_code == 303 and muted.headers["location"] == "/settings/blocks"
    assert (await _rows(engine, AccountBlock), await _rows(engine, AccountMute)) == (1, 1)

    page = await demo_client.get("/settings/blocks")
    assert page.status_code == 200
    for listing in ("blocks", "mutes"):
        shown = page.text.split(f'<ul class="{listing}">', 1)[1].split("</ul>", 1)[0]
        assert "@grace@" in shown and f'name="account" value="{grace}"' in shown, listing
    assert "notifications hidden" in page.text

    for action in ("unblock", "unmute"):
        undone = await form_post(
            demo_client, "/settings/blocks", "/settings/blocks", {"action": action, "account": grace}
        )
        assert undone.status_code == 303, undone.text
    assert (await _rows(engine, AccountBlock), await _rows(engine, AccountMute)) == (0, 0)


async def test_the_blocked_member_sees_none_of_the_blockers_posts(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await sign_in(demo_client, "ada")
    before = await demo_client.get("/@ada")
    assert "No public posts yet." not in before.text
    await form_post(
        demo_client,
        "/@grace",
        "/settings/blocks",
        {"action": "block", "account": await _id_of(engine, "grace")},
    )
    await demo_client.post("/sign-out", data={})
    demo_client.cookies.clear()
    await sign_in(demo_client, "grace")
    seen = await demo_client.get("/@ada")
    assert seen.status_code == 200 and "No public posts yet." in seen.text


async def test_refusals_come_back_next_to_their_field(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    ada = await _id_of(engine, "ada")
    await sign_in(demo_client, "ada")
    cases = [
        ({"action": "block", "account": ada}, "account", "cannot block itself"),
        ({"action": "mute", "handle": f"@ada@{config.node.domain}"}, "account", "cannot mute itself"),
        ({"action": "block", "handle": ""}, "handle", "name an account"),
        ({"action": "block", "handle": "@nobody@127.0.0.1:9"}, "handle", "cannot be found"),
        ({"action": "block", "account": "2147483647"}, "handle", "no longer exists"),
        (
            {"action": "mute", "account": await _id_of(engine, "grace"), "duration": "-3"},
            "duration",
            "seconds",
        ),
        (
            {"action": "mute", "account": await _id_of(engine, "grace"), "duration": "9" * 30},
            "duration",
            "seconds",
        ),
    ]
    for data, field, reason in cases:
        response = await form_post(demo_client, "/settings/blocks", "/settings/blocks", data)
        assert response.status_code == 400, (data, response.text)
        assert reason in field_error(response.text, field), (data, field_error(response.text, field))
    unknown = await form_post(demo_client, "/settings/blocks", "/settings/blocks", {"action": "explode"})
    assert unknown.status_code == 400 and "expected one of" in field_error(unknown.text, "action")
    no_token = await demo_client.post("/settings/blocks", data={"action": "block", "account": ada})
    assert no_token.status_code == 403
    assert (await _rows(engine, AccountBlock), await _rows(engine, AccountMute)) == (0, 0)


async def test_the_page_is_for_members_only(demo_client: httpx.AsyncClient) -> None:
    answer = await demo_client.get("/settings/blocks")
    assert answer.status_code in (302, 303) and "/sign-in" in answer.headers["location"]
