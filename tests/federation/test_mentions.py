"""Mentions of @user@host are looked up on the other server before the post's transaction opens:
no database connection is held while we wait on the network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.accounts import set_password
from talentfed.domain.members import issue_api_token
from talentfed.federation.remote_actors import RemoteActors
from talentfed.storage.models import Interaction, Object, User
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.support.connections import watched_connections
from tests.web.test_pages import form_post, sign_in

API = "/api/talentfed/v1"
PASSWORD = "a long enough password"


@pytest.fixture
def held_during_lookups(
    node: Node, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[int]]:
    """How many database connections the request's task held as each handle lookup began."""
    held: list[int] = []
    look_up = RemoteActors.by_handle

    async def watched(actors: RemoteActors, handle: str):
        held.append(watcher.held_by_current_task())
        return await look_up(actors, handle)

    monkeypatch.setattr(RemoteActors, "by_handle", watched)
    with watched_connections(engine) as watcher:
        yield held


async def test_the_api_resolves_mentions_before_its_transaction(
    node: Node, remote: RemoteServer, alice: RemoteUser, held_during_lookups: list[int]
) -> None:
    async with node.sessions() as session, session.begin():
        token = await issue_api_token(session, "bob")
    auth = {"Authorization": f"Bearer {token}"}
    body = f"Thoughts, @alice@{remote.netloc}?"
    created = await node.client.post(f"{API}/posts", json={"kind": "note", "body": body}, headers=auth)
    assert created.status_code == 201, created.text
    assert 'class="u-url mention"' in created.json()["content"]
    object_id = created.json()["url"].rsplit("/", 1)[1]
    edited = await node.client.patch(
        f"{API}/posts/{object_id}", json={"body": body + " Again."}, headers=auth
    )
    assert edited.status_code == 200, edited.text
    assert held_during_lookups == [0, 0]
    assert remote.gets["/.well-known/webfinger"] == 1  # the second lookup found alice stored
    alice_id = (await node.actor(alice.uri)).id
    assert await node.count(
        Interaction, Interaction.kind == "mention", Interaction.target_actor_id == alice_id
    )


async def test_a_stranger_causes_no_lookup(
    node: Node, remote: RemoteServer, held_during_lookups: list[int]
) -> None:
    body = {"kind": "note", "body": f"@alice@{remote.netloc}"}
    refused = await node.client.post(f"{API}/posts", json=body, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401 and held_during_lookups == []


async def test_the_form_resolves_mentions_before_its_transaction(
    node: Node, remote: RemoteServer, alice: RemoteUser, held_during_lookups: list[int]
) -> None:
    async with node.sessions() as session, session.begin():
        user = await session.scalar(select(User).where(User.username == "bob"))
        await set_password(session, user, PASSWORD)
    await sign_in(node.client, "bob", PASSWORD)
    body = f"Hello @alice@{remote.netloc}"
    question = {"title": "Who has a Swahili corpus?", "body": body, "visibility": "public"}
    published = await form_post(node.client, "/write/question", "/write/question", question)
    assert published.status_code == 303, published.text
    assert held_during_lookups == [0]
    async with node.sessions() as session:
        post = await session.scalar(select(Object).where(Object.source == body))
    assert post is not None and alice.uri in post.content


async def test_an_unknown_handle_is_refused_next_to_the_body(
    node: Node, remote: RemoteServer, held_during_lookups: list[int]
) -> None:
    async with node.sessions() as session, session.begin():
        token = await issue_api_token(session, "bob")
    body = {"kind": "note", "body": f"@nobody@{remote.netloc}"}
    refused = await node.client.post(f"{API}/posts", json=body, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 422 and refused.json()["field"] == "body"
    assert "cannot find @nobody" in refused.json()["error"] and held_during_lookups == [0]
