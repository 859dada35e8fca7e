"""`GET /api/v1/statuses?id[]=…`: several statuses at once (Phanpy asks for them so), posts and
reblogs alike, in the order asked; what names no status the reader may read is left out."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.posts import Draft
from tests.web.mastodon.test_posting import _token, demo_post, publish_as

URL = "/api/v1/statuses"


async def _ids(client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None) -> list[str]:
    response = await client.get(f"{URL}?{query}", headers=headers or {})
    assert response.status_code == 200, response.text
    return [status["id"] for status in response.json()]


async def test_in_the_order_asked_unknown_and_unreadable_left_out(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    question, article = await demo_post(engine, "question"), await demo_post(engine, "article")
    hidden = await publish_as(engine, config, "grace", Draft(kind="note", body="x", visibility="followers"))
    auth = await _token(demo_client)
    reblog = (await demo_client.post(f"/api/v1/statuses/{question.id}/reblog", headers=auth)).json()

    asked = [str(article.id), "99999", reblog["id"], str(hidden.id), str(question.id), str(article.id), "x"]
    query = "&".join(f"id[]={status_id}" for status_id in asked)
    assert await _ids(demo_client, query) == [str(article.id), reblog["id"], str(question.id)]
    shown = (await demo_client.get(f"{URL}?{query}", headers=auth)).json()
    assert shown[1]["reblog"]["id"] == str(question.id) and shown[1]["reblogged"] is True
    assert await _ids(demo_client, f"id[]={hidden.id}", auth) == []  # ada does not follow grace
    # Apps also write the list as `id=a&id=b` or `id=a,b`.
    assert await _ids(demo_client, f"id={article.id}&id={question.id}") == [str(article.id), str(question.id)]
    assert await _ids(demo_client, f"id={article.id},{question.id}") == [str(article.id), str(question.id)]
    assert await _ids(demo_client, "") == []


@pytest.mark.parametrize(
    "status_id",
    ["abc", "-1", "0", "1e3", "9" * 19, "9" * 40, "%00", "%EF%BC%91", str(10**15), str(10**15 + 2**31)],
)
async def test_ids_of_nothing_are_left_out_on_both_backends(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, status_id: str
) -> None:
    article = await demo_post(engine, "article")
    assert await _ids(demo_client, f"id[]={status_id}&id[]={article.id}") == [str(article.id)]


async def test_at_most_twenty_ids(demo_client: httpx.AsyncClient) -> None:
    twenty = "&".join(f"id[]={n}" for n in range(1, 21))
    assert (await demo_client.get(f"{URL}?{twenty}")).status_code == 200
    repeated = "&".join("id[]=1" for _ in range(30))  # the same id counts once
    assert (await demo_client.get(f"{URL}?{repeated}")).status_code == 200
    too_many = await demo_client.get(f"{URL}?{twenty}&id[]=21")
    assert too_many.status_code == 422 and too_many.json() == {"error": "Validation failed: at most 20 ids"}


async def test_a_token_if_given_must_grant_read_statuses(demo_client: httpx.AsyncClient) -> None:
    write_only = await _token(demo_client, scope="write")
    assert (await demo_client.get(f"{URL}?id[]=1", headers=write_only)).status_code == 403
    bad = await demo_client.get(f"{URL}?id[]=1", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401
