"""A reblog answers as on Mastodon: a new status of the member's whose `reblog` is the original;
its id (web/mastodon/reblogs.py) names no post and can be read back; unreblog answers the
original."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.posts import Draft
from talentfed.storage.db import session_factory
from talentfed.storage.models import Interaction
from talentfed.web.mastodon.reblogs import REBLOG_IDS
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
