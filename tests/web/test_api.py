"""The JSON API: authoring with a bearer token, listings with filters, 422s that name the field."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.members import issue_api_token
from talentfed.storage.db import session_factory
from talentfed.storage.models import Object, utcnow
from tests.support.factories import remote_actor

API = "/api/talentfed/v1"
AS_JSON = {"Accept": "application/activity+json"}


@pytest.fixture
async def auth(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> dict[str, str]:
    async with session_factory(engine)() as session, session.begin():
        token = await issue_api_token(session, "grace")
    return {"Authorization": f"Bearer {token}"}


async def test_create_edit_accept_delete(demo_client: httpx.AsyncClient, auth: dict) -> None:
    created = await demo_client.post(
        f"{API}/posts",
        headers=auth,
        json={
            "kind": "question",
            "title": "Which tokenizer for Thai?",
            "body": "No spaces between words.",
            "tags": ["NLP", "Thai"],
        },
    )
    assert created.status_code == 201, created.text
    question = created.json()
    assert question["kind"] == "question" and question["tags"] == ["nlp", "thai"]
    assert created.headers["location"] == question["url"]
    path = question["url"].removeprefix("http://127.0.0.1:8000/objects/")

    answer = await demo_client.post(
        f"{API}/posts",
        headers=auth,
        json={"kind": "answer", "body": "A dictionary-based one.", "in_reply_to": question["url"]},
    )
    assert answer.status_code == 201
    accepted = await demo_client.post(
        f"{API}/posts/{path}/accept", headers=auth, json={"answer": answer.json()["url"]}
    )
    assert accepted.status_code == 200 and accepted.json()["accepted_answer"] == answer.json()["url"]

    edited = await demo_client.patch(f"{API}/posts/{path}", headers=auth, json={"title": "Tokenizing Thai?"})
    assert edited.status_code == 200 and edited.json()["title"] == "Tokenizing Thai?"
    assert edited.json()["source"] == "No spaces between words."

    assert (await demo_client.delete(f"{API}/posts/{path}", headers=auth)).status_code == 204
    assert (await demo_client.get(f"/objects/{path}", headers=AS_JSON)).status_code == 410
    assert (await demo_client.delete(f"{API}/posts/{path}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "article", "body": "x"}, 422, "title"),
        ({"kind": "project", "title": "t", "body": "x", "deadline": "2001-01-01T00:00:00Z"}, 422, "deadline"),
        ({"kind": "project", "title": "t", "body": "x", "deadline": "next week"}, 422, "deadline"),
        ({"kind": "project", "title": "t", "body": "x", "deadline": "2099-01-01T00:00:00"}, 422, "deadline"),
        ({"kind": "project", "title": "t", "body": "x", "team_size": "four"}, 422, "team_size"),
        ({"kind": "project", "title": "t", "body": "x", "status": "paused"}, 422, "status"),
        ({"kind": "article", "title": 5, "body": "x"}, 422, "title"),
        ({"kind": "article", "title": "t", "body": "x", "tags": "nlp"}, 422, "tags"),
        ({"kind": "article", "title": "t", "body": "x" * 100_001}, 422, "body"),
        ({"kind": "sonnet", "title": "t", "body": "x"}, 422, "kind"),
    ],
)
async def test_invalid_input_is_422_with_the_field(
    demo_client: httpx.AsyncClient, auth: dict, body: dict, status: int, field: str
) -> None:
    response = await demo_client.post(f"{API}/posts", headers=auth, json=body)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field and response.json()["error"]


async def test_malformed_requests(demo_client: httpx.AsyncClient, auth: dict) -> None:
    not_json = await demo_client.post(
        f"{API}/posts", headers={**auth, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert not_json.status_code == 400
    no_token = await demo_client.post(f"{API}/posts", json={"kind": "note", "body": "x"})
    assert no_token.status_code == 401
    bad_token = await demo_client.post(
        f"{API}/posts", headers={"Authorization": "Bearer nope"}, json={"kind": "note", "body": "x"}
    )
    assert bad_token.status_code == 401
    huge = await demo_client.post(f"{API}/posts", headers=auth, content=b"{" + b" " * 300_000 + b"}")
    assert huge.status_code == 413


async def test_only_the_author_edits(demo_client: httpx.AsyncClient, auth: dict) -> None:
    # demo-article belongs to ada; grace's token cannot change it.
    response = await demo_client.patch(f"{API}/posts/demo-article", headers=auth, json={"title": "mine now"})
    assert response.status_code == 422 and "only its author" in response.json()["error"]


async def test_project_listing_across_the_federation(
    demo_client: httpx.AsyncClient, auth: dict, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        remote = remote_actor("kim", "lab.example")
        session.add(remote)
        await session.flush()
        session.add(
            Object(
                uri="https://lab.example/objects/p1",
                type="Note",
                kind="project",
                author_id=remote.id,
                name="Remote speech project",
                skills=["speech recognition", "rust"],
                status="open",
                deadline=utcnow() + timedelta(days=10),
                extra={},
            )
        )
        session.add(
            Object(
                uri="https://lab.example/objects/p2",
                type="Note",
                kind="project",
                author_id=remote.id,
                name="Closed one",
                skills=["rust"],
                status="closed",
                extra={},
            )
        )
    everything = (await demo_client.get(f"{API}/projects")).json()
    assert everything["total"] == 3
    speech = (await demo_client.get(f"{API}/projects", params={"skill": "#SpeechRecognition"})).json()
    assert sorted(item["title"] for item in speech["items"]) == [
        "Collaborators wanted: speech corpus for Swahili",
        "Remote speech project",
    ]
    assert speech["items"][0]["title"] == "Remote speech project"  # the nearest deadline first
    open_rust = (await demo_client.get(f"{API}/projects", params={"skill": "rust", "status": "open"})).json()
    assert [item["url"] for item in open_rust["items"]] == ["https://lab.example/objects/p1"]
    by_lab = (await demo_client.get(f"{API}/projects", params={"institution": "lab.example"})).json()
    assert by_lab["total"] == 2
    later = (
        await demo_client.get(
            f"{API}/projects", params={"deadline_after": (utcnow() + timedelta(days=30)).isoformat()}
        )
    ).json()
    assert [item["url"] for item in later["items"]] == ["http://127.0.0.1:8000/objects/demo-project"]
    bad = await demo_client.get(f"{API}/projects", params={"page": "0"})
    assert bad.status_code == 422 and bad.json()["field"] == "page"


async def test_member_posts_are_paged(demo_client: httpx.AsyncClient, auth: dict) -> None:
    for index in range(22):
        await demo_client.post(f"{API}/posts", headers=auth, json={"kind": "note", "body": f"note {index}"})
    first = (await demo_client.get(f"{API}/members/grace/posts")).json()
    assert len(first["items"]) == 20 and first["next"] == 2
    second = (await demo_client.get(f"{API}/members/grace/posts", params={"page": 2})).json()
    assert len(second["items"]) == 3 and second["next"] is None  # 22 notes + the demo question
    assert (await demo_client.get(f"{API}/members/nobody/posts")).status_code == 404
