"""Pinning through the client API: a member pins up to five of their own public or unlisted
statuses (domain/posts.set_pinned, the CLI's rule too); the rest is Mastodon's 422."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.posts import Draft
from tests.web.mastodon.test_posting import _token, demo_post, publish_as


async def _status(client: httpx.AsyncClient, auth: dict[str, str], text: str, **fields: str) -> str:
    created = await client.post("/api/v1/statuses", json={"status": text, **fields}, headers=auth)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_pin_and_unpin_an_own_status(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client, scope="read write")
    status_id = await _status(demo_client, auth, "Worth keeping on top", visibility="unlisted")
    pinned = await demo_client.post(f"/api/v1/statuses/{status_id}/pin", headers=auth)
    assert pinned.status_code == 200, pinned.text
    assert (pinned.json()["id"], pinned.json()["pinned"]) == (status_id, True)
    again = await demo_client.post(f"/api/v1/statuses/{status_id}/pin", headers=auth)
    assert again.status_code == 200 and again.json()["pinned"] is True

    account_id = pinned.json()["account"]["id"]
    listed = await demo_client.get(f"/api/v1/accounts/{account_id}/statuses", params={"pinned": "true"})
    assert [s["id"] for s in listed.json()] == [status_id]

    unpinned = await demo_client.post(f"/api/v1/statuses/{status_id}/unpin", headers=auth)
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    again = await demo_client.post(f"/api/v1/statuses/{status_id}/unpin", headers=auth)
    assert again.status_code == 200 and again.json()["pinned"] is False
    listed = await demo_client.get(f"/api/v1/accounts/{account_id}/statuses", params={"pinned": "true"})
    assert listed.json() == []


async def test_at_most_five_and_only_public_or_unlisted(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    for n in range(5):
        status_id = await _status(demo_client, auth, f"pin {n}")
        assert (await demo_client.post(f"/api/v1/statuses/{status_id}/pin", headers=auth)).status_code == 200
    sixth = await _status(demo_client, auth, "one too many")
    refused = await demo_client.post(f"/api/v1/statuses/{sixth}/pin", headers=auth)
    assert refused.status_code == 422
    assert refused.json() == {"error": "Validation failed: post: at most 5 posts can be pinned"}
    # A deleted pinned status frees its place.
    assert (await demo_client.delete(f"/api/v1/statuses/{status_id}", headers=auth)).status_code == 200
    assert (await demo_client.post(f"/api/v1/statuses/{sixth}/pin", headers=auth)).status_code == 200

    private = await _status(demo_client, auth, "followers only", visibility="private")
    refused = await demo_client.post(f"/api/v1/statuses/{private}/pin", headers=auth)
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "Validation failed: post: only a public or unlisted post can be pinned"
    }


async def test_others_statuses_are_not_pinned(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    question = await demo_post(engine, "question")  # grace's
    auth = await _token(demo_client)
    refused = await demo_client.post(f"/api/v1/statuses/{question.id}/pin", headers=auth)
    assert refused.status_code == 422 and refused.json()["error"].startswith("Validation failed: post: ")
    assert (await demo_client.post(f"/api/v1/statuses/{question.id}/unpin", headers=auth)).status_code == 200
    hidden = await publish_as(engine, config, "grace", Draft(kind="note", body="x", visibility="followers"))
    for action in ("pin", "unpin"):
        response = await demo_client.post(f"/api/v1/statuses/{hidden.id}/{action}", headers=auth)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


@pytest.mark.parametrize("status_id", ["abc", "0", "99999999999", "9" * 40, str(10**15 + 1)])
async def test_ids_of_no_status_are_404_on_both_backends(
    demo_client: httpx.AsyncClient, status_id: str
) -> None:
    auth = await _token(demo_client)
    for action in ("pin", "unpin"):
        response = await demo_client.post(f"/api/v1/statuses/{status_id}/{action}", headers=auth)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_pinning_wants_write_accounts(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    status_id = await _status(demo_client, auth, "mine")
    assert (await demo_client.post(f"/api/v1/statuses/{status_id}/pin")).status_code == 401
    statuses_only = await _token(demo_client, scope="write:statuses")
    response = await demo_client.post(f"/api/v1/statuses/{status_id}/pin", headers=statuses_only)
    assert response.status_code == 403
    accounts = await _token(demo_client, scope="write:accounts")
    assert (await demo_client.post(f"/api/v1/statuses/{status_id}/pin", headers=accounts)).status_code == 200
