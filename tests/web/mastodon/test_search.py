"""`GET /api/v2/search`: the one full-text search (domain/search.py) answered as Mastodon's
accounts, statuses and hashtags; visibility kept; `resolve=true` looks handles and URLs up on
their server (a real one on loopback) with no database connection held, for members only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.federation.remote_actors import RemoteActors
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, Object
from tests.federation.remote_server import RemoteServer
from tests.support import note_doc
from tests.support.connections import watched_connections
from tests.web.mastodon.test_oauth import bearer, member_token, register

SEARCH = "/api/v2/search"


async def _auth(client: httpx.AsyncClient, scope: str = "read write") -> dict[str, str]:
    app = await register(client)
    return bearer(str((await member_token(client, app, scope=scope))["access_token"]))


async def _search(client: httpx.AsyncClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = await client.get(SEARCH, params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def held_during_lookups(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many database connections the request's task held as each handle lookup began."""
    held: list[int] = []
    look_up = RemoteActors.by_handle

    async def watched(actors: RemoteActors, handle: str) -> Actor:
        held.append(watcher.held_by_current_task())
        return await look_up(actors, handle)

    monkeypatch.setattr(RemoteActors, "by_handle", watched)
    with watched_connections(engine) as watcher:
        yield held


async def test_anyone_finds_local_accounts_statuses_and_hashtags(demo_client: httpx.AsyncClient) -> None:
    found = await _search(demo_client, q="speech recognition")
    assert "ada" in [a["acct"] for a in found["accounts"]]
    texts = " ".join(s["content"] for s in found["statuses"])
    assert "Speech recognition for languages with little data" in texts
    assert "speech corpus for Swahili" in texts  # the project call
    assert found["hashtags"][0] == {
        "name": "SpeechRecognition",
        "url": "http://127.0.0.1:8000/tags/speechrecognition",
        "history": [],
    }

    only_accounts = await _search(demo_client, q="speech", type="accounts")
    assert only_accounts["accounts"] and only_accounts["statuses"] == only_accounts["hashtags"] == []


async def test_hashtags_match_skills_exact_first(demo_client: httpx.AsyncClient) -> None:
    found = await _search(demo_client, q="#MachineLearning", type="hashtags")
    assert [t["name"] for t in found["hashtags"]] == ["MachineLearning"]
    partial = await _search(demo_client, q="learning", type="hashtags")
    assert "MachineLearning" in [t["name"] for t in partial["hashtags"]]


async def test_a_followers_only_post_is_not_found(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    async with session_factory(engine)() as session, session.begin():
        alan = await find_local_actor(session, "alan")
        assert alan is not None
        hidden = posts.Draft(kind="article", title="Zanzibar plans", body="Zanzibar", visibility="followers")
        await posts.publish(session, config, alan, hidden)
        await posts.publish(session, config, alan, posts.Draft(kind="article", title="Zanzibar", body="Open"))

    auth = await _auth(demo_client)  # ada, who does not follow alan
    for headers in (None, auth):
        found = await _search(demo_client, headers, q="zanzibar", type="statuses")
        assert [s["visibility"] for s in found["statuses"]] == ["public"]


async def test_following_and_account_id_narrow_the_search(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _auth(demo_client)
    assert await _search(demo_client, auth, q="machine learning", type="accounts", following="true") == {
        "accounts": [],
        "statuses": [],
        "hashtags": [],
    }
    async with session_factory(engine)() as session, session.begin():
        ada, grace = await find_local_actor(session, "ada"), await find_local_actor(session, "grace")
        assert ada is not None and grace is not None
        session.add(Follow(follower_id=ada.id, followed_id=grace.id, state="accepted"))
        grace_id = str(grace.id)
    followed = await _search(demo_client, auth, q="machine learning", type="accounts", following="true")
    assert [a["id"] for a in followed["accounts"]] == [grace_id]

    by_grace = await _search(demo_client, q="evaluate", type="statuses", account_id=grace_id)
    assert by_grace["statuses"] and {s["account"]["id"] for s in by_grace["statuses"]} == {grace_id}
    assert (await _search(demo_client, q="speech", type="statuses", account_id=grace_id))["statuses"] == []


async def test_tokens_scopes_and_parameters(demo_client: httpx.AsyncClient) -> None:
    resolve = await demo_client.get(SEARCH, params={"q": "@alice@127.0.0.1:9", "resolve": "true"})
    assert resolve.status_code == 401 and "without authentication" in resolve.json()["error"]
    offset = await demo_client.get(SEARCH, params={"q": "speech", "type": "accounts", "offset": "1"})
    assert offset.status_code == 401
    write_only = await demo_client.get(
        SEARCH, params={"q": "speech"}, headers=await _auth(demo_client, "write")
    )
    assert write_only.status_code == 403
    bad_token = await demo_client.get(SEARCH, params={"q": "speech"}, headers=bearer("nope"))
    assert bad_token.status_code == 401
    assert (await demo_client.get(SEARCH)).status_code == 400  # q is required
    assert (await demo_client.get(SEARCH, params={"q": "x", "limit": "many"})).status_code == 400


async def test_resolve_a_handle_stores_and_answers_the_account(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, held_during_lookups: list[int]
) -> None:
    auth = await _auth(demo_client)
    async with RemoteServer() as remote:
        alice = remote.add_user("alice", name="Alice Remote")
        found = await _search(demo_client, auth, q=f"@alice@{remote.netloc}", resolve="true")
        unknown = await _search(demo_client, auth, q=f"@nobody@{remote.netloc}", resolve="true")
    assert [a["acct"] for a in found["accounts"]] == [f"alice@{remote.netloc}"]
    assert found["accounts"][0]["display_name"] == "Alice Remote"
    assert held_during_lookups == [0, 0]  # no connection held while the remote answers
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(Actor).where(Actor.uri == alice.uri))
    assert stored is not None and found["accounts"][0]["id"] == str(stored.id)
    assert unknown == {"accounts": [], "statuses": [], "hashtags": []}


async def test_resolve_a_url_stores_and_answers_the_status(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    auth = await _auth(demo_client)
    async with RemoteServer() as remote:
        alice = remote.add_user("alice")
        note = note_doc(alice.uri, content="<p>Found by its URL</p>")
        remote.serve(note)
        found = await _search(demo_client, auth, q=note["id"], resolve="true")
        down = await _search(demo_client, auth, q=f"{remote.base}/notes/missing", resolve="true")
    assert [s["uri"] for s in found["statuses"]] == [note["id"]]
    assert found["accounts"] == [] and down["statuses"] == []
    async with session_factory(engine)() as session:
        assert (
            await session.scalar(select(func.count()).select_from(Object).where(Object.uri == note["id"]))
            == 1
        )
