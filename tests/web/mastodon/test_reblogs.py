"""A reblog answers as on Mastodon: a new status of the member's whose `reblog` is the original;
its id (web/mastodon/reblogs.py) names no post and can be read back; unreblog answers the
original."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import Follow, Interaction
from talentfed.web.mastodon.reblogs import REBLOG_IDS
from tests.web.mastodon.test_markers import token_of
from tests.web.mastodon.test_posting import _token, demo_post, publish_as


async def test_a_reblog_is_a_status_wrapping_the_original(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    question = await demo_post(engine, "question")
    auth = await _token(demo_client)
    answer = await demo_client.post(f"/api/v1/statuses/{question.id}/reblog", headers=auth)
    assert answer.status_code == 200, answer.text
    wrapper = answer.json()
    async with session_factory(engine)() as session:
        boost = await session.scalar(
            select(Interaction).where(Interaction.kind == "announce", Interaction.object_id == question.id)
        )
    assert boost is not None and wrapper["id"] == str(REBLOG_IDS + boost.id)
    assert wrapper["uri"] == boost.activity_uri and wrapper["account"]["acct"] == "ada"
    assert (wrapper["content"], wrapper["visibility"], wrapper["reblogs_count"]) == ("", "public", 0)
    assert wrapper["reblogged"] is True and "pinned" not in wrapper
    original = wrapper["reblog"]
    assert original["id"] == str(question.id) and original["account"]["acct"] == "grace"
    assert (original["reblogged"], original["reblogs_count"]) == (True, 1)

    # Again: the same reblog. Read back by its id, by anyone who may read the original.
    again = (await demo_client.post(f"/api/v1/statuses/{question.id}/reblog", headers=auth)).json()
    assert again["id"] == wrapper["id"]
    shown = await demo_client.get(f"/api/v1/statuses/{wrapper['id']}")
    assert shown.status_code == 200 and shown.json()["reblog"]["id"] == str(question.id)
    assert "reblogged" not in shown.json()  # an anonymous reader did nothing
    assert (await demo_client.get(f"/api/v1/statuses/{wrapper['id']}", headers=auth)).json()["reblogged"]

    undone = await demo_client.post(f"/api/v1/statuses/{question.id}/unreblog", headers=auth)
    assert undone.status_code == 200 and undone.json()["id"] == str(question.id)
    assert (undone.json()["reblogged"], undone.json()["reblogs_count"]) == (False, 0)
    assert (await demo_client.get(f"/api/v1/statuses/{wrapper['id']}")).status_code == 404


async def test_a_reblog_is_seen_by_who_may_read_the_original(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    own = await publish_as(engine, config, "ada", Draft(kind="note", body="mine", visibility="followers"))
    auth = await _token(demo_client)
    wrapper = (await demo_client.post(f"/api/v1/statuses/{own.id}/reblog", headers=auth)).json()
    assert (await demo_client.get(f"/api/v1/statuses/{wrapper['id']}", headers=auth)).status_code == 200
    assert (await demo_client.get(f"/api/v1/statuses/{wrapper['id']}")).status_code == 404


@pytest.mark.parametrize(
    "status_id", [str(REBLOG_IDS), str(REBLOG_IDS + 1), str(REBLOG_IDS + 2**31), "9" * 18, "9" * 19]
)
async def test_ids_of_no_reblog_are_404(demo_client: httpx.AsyncClient, status_id: str) -> None:
    response = await demo_client.get(f"/api/v1/statuses/{status_id}")
    assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_a_like_is_no_reblog(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    question = await demo_post(engine, "question")
    auth = await _token(demo_client)
    assert (
        await demo_client.post(f"/api/v1/statuses/{question.id}/favourite", headers=auth)
    ).status_code == 200
    async with session_factory(engine)() as session:
        like = await session.scalar(select(Interaction).where(Interaction.kind == "like"))
    assert like is not None
    assert (await demo_client.get(f"/api/v1/statuses/{REBLOG_IDS + like.id}")).status_code == 404


async def _follow(engine: AsyncEngine, follower: str, followed: str) -> None:
    async with session_factory(engine)() as session, session.begin():
        who, whom = await find_local_actor(session, follower), await find_local_actor(session, followed)
        session.add(Follow(follower_id=who.id, followed_id=whom.id, state="accepted"))


async def test_the_home_timeline_holds_reblogs_of_followed_accounts_where_they_came(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    """grace reblogs an older post of the institution's; ada, who follows grace, sees the
    reblog above grace's older post and below her newer one, and pages through both."""
    await _follow(engine, "ada", "grace")
    older = await publish_as(engine, config, "grace", Draft(kind="note", body="grace before"))
    grace = await token_of(demo_client, engine, "grace")
    boosted = await publish_as(engine, config, "institution", Draft(kind="note", body="from the institution"))
    wrapper = (await demo_client.post(f"/api/v1/statuses/{boosted.id}/reblog", headers=grace)).json()
    newer = await publish_as(engine, config, "grace", Draft(kind="note", body="grace after"))
    ada = await _token(demo_client)

    home = await demo_client.get("/api/v1/timelines/home", params={"limit": 40}, headers=ada)
    assert home.status_code == 200, home.text
    ids = [status["id"] for status in home.json()]
    assert ids.index(str(newer.id)) < ids.index(wrapper["id"]) < ids.index(str(older.id))
    assert str(boosted.id) not in ids  # ada follows not the institution: only grace's reblog
    shown = home.json()[ids.index(wrapper["id"])]
    assert (shown["account"]["acct"], shown["reblog"]["id"]) == ("grace", str(boosted.id))
    assert shown["reblog"]["account"]["acct"] == "institution"

    # One at a time through the Link header: the reblog's id is where it falls, both ways.
    at = await demo_client.get(
        "/api/v1/timelines/home", params={"max_id": str(newer.id), "limit": 1}, headers=ada
    )
    assert [s["id"] for s in at.json()] == [wrapper["id"]]
    next_url, prev_url = re.findall(r"<([^>]+)>", at.headers["link"])
    assert f"max_id={wrapper['id']}" in next_url and f"min_id={wrapper['id']}" in prev_url
    below = await demo_client.get(next_url, headers=ada)
    assert [s["id"] for s in below.json()] == [str(older.id)]
    above = await demo_client.get(prev_url, headers=ada)
    assert [s["id"] for s in above.json()] == [str(newer.id)]
    since = await demo_client.get("/api/v1/timelines/home", params={"since_id": wrapper["id"]}, headers=ada)
    assert str(newer.id) in [s["id"] for s in since.json()] and wrapper["id"] not in [
        s["id"] for s in since.json()
    ]

    profile = await demo_client.get(f"/api/v1/accounts/{wrapper['account']['id']}/statuses")
    assert [s["id"] for s in profile.json()][:3] == [str(newer.id), wrapper["id"], str(older.id)]
    without = await demo_client.get(
        f"/api/v1/accounts/{wrapper['account']['id']}/statuses", params={"exclude_reblogs": "true"}
    )
    assert wrapper["id"] not in [s["id"] for s in without.json()]


async def test_a_reblog_of_a_post_the_reader_may_not_read_is_not_shown(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    hidden = await publish_as(
        engine, config, "institution", Draft(kind="note", body="for followers", visibility="followers")
    )
    async with session_factory(engine)() as session, session.begin():
        grace = await find_local_actor(session, "grace")
        session.add(Interaction(kind="announce", actor_id=grace.id, object_id=hidden.id))
        grace_id = grace.id
    await _follow(engine, "ada", "grace")
    ada = await _token(demo_client)
    home = (await demo_client.get("/api/v1/timelines/home", params={"limit": 40}, headers=ada)).json()
    assert all(status["reblog"] is None for status in home)
    assert any(status["account"]["acct"] == "grace" for status in home)
    profile = (await demo_client.get(f"/api/v1/accounts/{grace_id}/statuses", headers=ada)).json()
    assert profile and all(status["reblog"] is None for status in profile)


@pytest.mark.parametrize(
    "value", ["abc", "-1", "1e3", "9" * 19, "１２", str(REBLOG_IDS), str(10**15 + 2**31), "0"]
)
async def test_paging_ids_of_home_are_checked_on_both_backends(
    demo_client: httpx.AsyncClient, value: str
) -> None:
    """Not an id: 422; an id of no status (0, beyond every row, a reblog that never was): a page."""
    ada = await _token(demo_client)
    for name in ("max_id", "since_id", "min_id"):
        response = await demo_client.get("/api/v1/timelines/home", params={name: value}, headers=ada)
        if value.isascii() and value.isdigit() and len(value) <= 18:
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 422 and response.json() == {"error": f"{name} must be an id"}
