"""Editing through the client API (`PUT /api/v1/statuses/:id`), a status's history and its
source: edits go through domain/posts.edit (an Update is federated), the replaced version is
kept, structured kinds keep their kind and terms, refusals are Mastodon's."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Object, PostEdit
from tests.web.mastodon.test_posting import _token, demo_post


async def _post(client: httpx.AsyncClient, auth: dict[str, str], text: str, **fields: str) -> dict[str, Any]:
    created = await client.post("/api/v1/statuses", json={"status": text, **fields}, headers=auth)
    assert created.status_code == 200, created.text
    return created.json()


async def _updates_of(engine: AsyncEngine, uri: str) -> int:
    async with session_factory(engine)() as session:
        return await session.scalar(
            select(func.count()).where(Activity.type == "Update", Activity.object_uri == uri)
        )


async def test_an_edit_changes_the_text_and_keeps_the_original_in_the_history(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    status = await _post(demo_client, auth, "First *draft*", language="en")
    assert status["edited_at"] is None
    path = f"/api/v1/statuses/{status['id']}"

    edited = await demo_client.put(
        path, json={"status": "Second **version**", "language": "de"}, headers=auth
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["id"] == status["id"] and body["created_at"] == status["created_at"]
    assert "<strong>version</strong>" in body["content"] and body["language"] == "de"
    assert body["edited_at"] is not None and body["edited_at"] >= status["created_at"]
    assert (await demo_client.get(path)).json()["edited_at"] == body["edited_at"]
    assert await _updates_of(engine, status["uri"]) == 1  # followers' servers hear of it

    history = (await demo_client.get(f"{path}/history")).json()
    assert [entry["content"] for entry in history] == [
        "<p>First <em>draft</em></p>",
        "<p>Second <strong>version</strong></p>",
    ]
    assert [entry["created_at"] for entry in history] == [status["created_at"], body["edited_at"]]
    assert all(entry["account"]["acct"] == "ada" and entry["sensitive"] is False for entry in history)
    assert set(history[0]) >= {"spoiler_text", "media_attachments", "emojis", "poll"}

    source = await demo_client.get(f"{path}/source", headers=auth)
    assert source.json() == {"id": status["id"], "text": "Second **version**", "spoiler_text": ""}

    # The same text again changes nothing readers see: no new version (the Update still goes).
    again = await demo_client.put(path, json={"status": "Second **version**"}, headers=auth)
    assert again.status_code == 200 and again.json()["language"] == "de"  # kept when not given
    assert len((await demo_client.get(f"{path}/history")).json()) == 2


async def test_a_status_never_edited_has_a_history_of_one(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    status = await _post(demo_client, auth, "Just once")
    history = (await demo_client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert len(history) == 1
    assert (history[0]["content"], history[0]["created_at"]) == (status["content"], status["created_at"])


async def test_an_edit_of_a_project_call_keeps_its_kind_title_and_terms(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    project = await demo_post(engine, "project")
    auth = await _token(demo_client)
    path = f"/api/v1/statuses/{project.id}"
    source = (await demo_client.get(f"{path}/source", headers=auth)).json()
    assert source["text"] == project.source

    edited = await demo_client.put(path, json={"status": "Now also Kiswahili sign language."}, headers=auth)
    assert edited.status_code == 200, edited.text
    assert "Project call: Collaborators wanted" in edited.json()["content"]
    assert edited.json()["card"] is not None
    after = await demo_post(engine, "project")
    assert (after.kind, after.name, after.skills, after.status, after.deadline) == (
        project.kind,
        project.name,
        project.skills,
        project.status,
        project.deadline,
    )
    assert (after.extra["teamSize"], after.extra["contact"], after.visibility) == (4, "ada", "public")
    assert after.source == "Now also Kiswahili sign language."
    history = (await demo_client.get(f"{path}/history")).json()
    assert len(history) == 2 and "Project call: Collaborators wanted" in history[0]["content"]
    assert "transcribing a Swahili speech corpus" in history[0]["content"]


async def test_an_article_keeps_its_summary(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    article = await demo_post(engine, "article")
    auth = await _token(demo_client)
    response = await demo_client.put(
        f"/api/v1/statuses/{article.id}", json={"status": "Ten hours & a <lot> of patience."}, headers=auth
    )
    assert response.status_code == 200, response.text
    after = await demo_post(engine, "article")
    assert (after.kind, after.name, after.summary, after.tags) == (
        "article",
        article.name,
        article.summary,
        article.tags,
    )


async def test_only_the_author_edits(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    question = await demo_post(engine, "question")  # grace's
    ada = await _token(demo_client)
    path = f"/api/v1/statuses/{question.id}"
    refused = await demo_client.put(path, json={"status": "mine now"}, headers=ada)
    assert refused.status_code == 404 and refused.json() == {"error": "Record not found"}
    assert (await demo_post(engine, "question")).source == question.source
    assert await _updates_of(engine, question.uri) == 0

    assert (await demo_client.put(path, json={"status": "x"})).status_code == 401
    read_only = await _token(demo_client, scope="read")
    assert (await demo_client.put(path, json={"status": "x"}, headers=read_only)).status_code == 403
    assert (await demo_client.get(f"{path}/source")).status_code == 401
    write_only = await _token(demo_client, scope="write")
    assert (await demo_client.get(f"{path}/source", headers=write_only)).status_code == 403


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({}, "Text can't be blank"),
        ({"status": "   "}, "body: the text is empty"),
        # text PostgreSQL cannot store is refused where the body is read (params.py)
        ({"status": "a\x00b"}, "the body is not JSON we accept: status: a NUL character"),
        ({"status": "fine", "language": "x" * 40}, "language: expected a language tag"),
        ({"status": "fine", "language": "e\x00"}, "the body is not JSON we accept: language: a NUL"),
        ({"status": "fine", "spoiler_text": "a\x00b"}, "the body is not JSON we accept: spoiler_text: a NUL"),
        ({"status": "fine", "spoiler_text": "w" * 1001}, "summary: at most 1000 characters"),
        ({"status": "fine", "sensitive": "maybe"}, "sensitive: expected true or false"),
        ({"status": "fine", "media_ids": ["1"]}, "media_ids is not offered here yet"),
    ],
)
async def test_refused_edits_are_422_on_both_backends(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, fields: dict[str, Any], says: str
) -> None:
    """PostgreSQL refuses NUL and overlong values that SQLite would store: both answer 422."""
    auth = await _token(demo_client)
    status = await _post(demo_client, auth, "Before")
    response = await demo_client.put(
        f"/api/v1/statuses/{status['id']}",
        content=json.dumps(fields).encode(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith("Validation failed: " + says), response.text
    assert (await demo_client.get(f"/api/v1/statuses/{status['id']}")).json()["content"] == "<p>Before</p>"
    assert await _updates_of(engine, status["uri"]) == 0


async def test_an_unpaired_surrogate_is_refused(demo_client: httpx.AsyncClient) -> None:
    auth = await _token(demo_client)
    status = await _post(demo_client, auth, "Before")
    raw = b'{"status": "broken \\ud800 text"}'
    for method, path in (("PUT", f"/api/v1/statuses/{status['id']}"), ("POST", "/api/v1/statuses")):
        response = await demo_client.request(
            method, path, content=raw, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 422 and "surrogate" in response.json()["error"], response.text


async def test_posting_refuses_what_a_database_would_refuse(demo_client: httpx.AsyncClient) -> None:
    """The same draft checks guard new statuses (they used to reach PostgreSQL and fail there)."""
    auth = await _token(demo_client)
    for fields in ({"status": "a\x00b"}, {"status": "ok", "language": "much-too-long-a-language-tag"}):
        response = await demo_client.post("/api/v1/statuses", json=fields, headers=auth)
        assert response.status_code == 422, response.text


@pytest.mark.parametrize("status_id", ["99999999", "2147483648", "999999999999999999", "²", "1x", "-1"])
async def test_unknown_ids_are_404(demo_client: httpx.AsyncClient, status_id: str) -> None:
    auth = await _token(demo_client)
    for method, path in (
        ("PUT", f"/api/v1/statuses/{status_id}"),
        ("GET", f"/api/v1/statuses/{status_id}/history"),
        ("GET", f"/api/v1/statuses/{status_id}/source"),
    ):
        response = await demo_client.request(method, path, json={"status": "x"}, headers=auth)
        assert response.status_code == 404 and response.json() == {"error": "Record not found"}, path


async def test_history_follows_visibility_and_deletion(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _token(demo_client)
    private = await _post(demo_client, auth, "for followers", visibility="private")
    path = f"/api/v1/statuses/{private['id']}"
    assert (
        await demo_client.put(path, json={"status": "still for followers"}, headers=auth)
    ).status_code == 200
    assert (await demo_client.get(f"{path}/history")).status_code == 404  # anyone
    assert len((await demo_client.get(f"{path}/history", headers=auth)).json()) == 2  # the author

    assert (await demo_client.delete(path, headers=auth)).status_code == 200
    assert (await demo_client.get(f"{path}/history", headers=auth)).status_code == 404
    async with session_factory(engine)() as session:
        kept = await session.scalar(
            select(func.count()).select_from(PostEdit).where(PostEdit.object_id == int(private["id"]))
        )
        deleted = await session.get(Object, int(private["id"]))
    assert kept == 0  # a deleted post's earlier texts go with it
    assert deleted is not None and deleted.edited_at is None  # and the mark that it was edited
