"""Remote actors: the cache, its refresh, handles that change owner, WebFinger."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from talentfed.config import Config
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.federation.runtime import Federation
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DomainBlock, utcnow
from tests.federation.remote_server import AS_JSON, RemoteServer

# --- the tests of this module ------------------------------------------------------------


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
async def actors(config: Config, sessions: async_sessionmaker) -> AsyncIterator[RemoteActors]:
    runtime = await Federation.open(config, sessions)
    yield runtime.actors
    await runtime.close()


async def _make_stale(sessions: async_sessionmaker, uri: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Actor).where(Actor.uri == uri).values(fetched_at=utcnow() - timedelta(days=2))
        )


async def _row(sessions: async_sessionmaker, uri: str) -> Actor | None:
    async with sessions() as session:
        return await session.scalar(select(Actor).where(Actor.uri == uri))


async def test_first_get_fetches_and_stores_the_actor(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice", name="Alice Liddell")
    actor = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 1
    stored = await _row(sessions, alice.uri)
    assert stored is not None and stored.id == actor.id
    assert (stored.local, stored.username, stored.domain) == (False, "alice", remote.netloc)
    assert stored.display_name == "Alice Liddell"
    assert stored.inbox_url == alice.inbox and stored.shared_inbox_url == remote.shared_inbox
    assert (stored.public_key_id, stored.public_key_pem) == (alice.key_id, alice.public_pem)


async def test_a_cache_hit_does_not_fetch(actors: RemoteActors, remote: RemoteServer) -> None:
    alice = remote.add_user("alice")
    first = await actors.get(alice.uri)
    alice.name = "Renamed on the remote"
    second = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 1
    assert second.id == first.id and second.display_name == "Alice"


async def test_a_stale_copy_is_refetched(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    await actors.get(alice.uri)
    alice.name = "Alice, renamed"
    await _make_stale(sessions, alice.uri)
    refreshed = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 2
    assert refreshed.display_name == "Alice, renamed"
    assert utcnow() - refreshed.fetched_at < timedelta(minutes=1)


async def test_a_failed_refresh_returns_the_stale_copy(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    original = await actors.get(alice.uri)
    await _make_stale(sessions, alice.uri)
    alice.name = "Never seen"
    remote.down = True
    stale = await actors.get(alice.uri)
    assert remote.gets[f"/users/{alice.slug}"] == 2  # it did try
    assert stale.id == original.id and stale.display_name == "Alice"
    # An explicit refresh (as key rotation asks for) does not settle for the stale copy.
    with pytest.raises(ActorUnavailable):
        await actors.get(alice.uri, refresh=True)


async def test_an_unknown_actor_that_cannot_be_fetched_is_unavailable(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    with pytest.raises(ActorUnavailable):
        await actors.get(f"{remote.base}/users/nobody")
    assert await _row(sessions, f"{remote.base}/users/nobody") is None


async def test_a_blocked_domain_is_never_fetched(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    async with sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc))
    with pytest.raises(ActorUnavailable, match="blocked"):
        await actors.get(alice.uri)
    assert sum(remote.gets.values()) == 0


async def test_a_handle_that_changed_owner_renames_the_old_row(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    old = remote.add_user("alice")
    old_actor = await actors.get(old.uri)
    # The account was deleted and re-created: same handle, new actor id.
    new = remote.add_user("alice-2", preferred_username="alice", name="Alice again")
    new_actor = await actors.get(new.uri)

    assert new_actor.id != old_actor.id and new_actor.username == "alice"
    renamed = await _row(sessions, old.uri)
    assert renamed is not None and renamed.username == f"alice~{old_actor.id}"
    found = await actors.by_handle(f"@alice@{remote.netloc}")
    assert found.uri == new.uri


async def test_webfinger_finds_an_actor_by_handle_and_caches_it(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    found = await actors.by_handle(f"@Alice@{remote.netloc}")
    assert found.uri == alice.uri
    assert remote.gets["/.well-known/webfinger"] == 1 and remote.gets["/users/alice"] == 1
    again = await actors.resolve(f"alice@{remote.netloc}")
    assert again.id == found.id
    assert remote.gets["/.well-known/webfinger"] == 1 and remote.gets["/users/alice"] == 1


async def test_webfinger_for_an_unknown_handle_is_unavailable(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    with pytest.raises(ActorUnavailable):
        await actors.by_handle(f"@nobody@{remote.netloc}")
    assert remote.gets["/.well-known/webfinger"] == 1
    with pytest.raises(ActorUnavailable):
        await actors.by_handle("not a handle")


async def test_resolve_key_reads_the_cache_then_refetches_on_request(
    actors: RemoteActors, remote: RemoteServer
) -> None:
    alice = remote.add_user("alice")
    first_key = alice.public_pem
    assert await actors.resolve_key(alice.key_id) == first_key
    assert await actors.resolve_key(alice.key_id) == first_key
    assert remote.gets["/users/alice"] == 1
    alice.rotate_key()
    assert await actors.resolve_key(alice.key_id) == first_key  # cached
    assert await actors.resolve_key(alice.key_id, refresh=True) == alice.public_pem
    assert remote.gets["/users/alice"] == 2
    owner = await actors.owner_of_key(alice.key_id)
    assert owner is not None and owner.uri == alice.uri


async def test_the_server_helper_serves_what_the_tests_rely_on(remote: RemoteServer) -> None:
    """A guard on the helper itself: documents are served as ActivityStreams, POSTs recorded."""
    alice = remote.add_user("alice")
    remote.answer_with(500, (429, {"Retry-After": "7"}))
    async with httpx.AsyncClient() as client:
        document = await client.get(alice.uri)
        assert document.headers["content-type"].startswith(AS_JSON)
        assert document.json()["publicKey"]["publicKeyPem"] == alice.public_pem
        statuses = [(await client.post(remote.shared_inbox, content=b"{}")).status_code for _ in range(3)]
        last = await client.post(alice.inbox, content=b"{}")
    assert statuses == [500, 429, 429] and last.headers["retry-after"] == "7"
    assert [r.path for r in remote.received] == ["/inbox"] * 3 + ["/users/alice/inbox"]


async def test_a_255_character_handle_that_changed_owner_is_renamed_within_the_column(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    long_name = "a" * 255
    old = remote.add_user("long-1", preferred_username=long_name)
    old_actor = await actors.get(old.uri)
    new = remote.add_user("long-2", preferred_username=long_name)
    assert (await actors.get(new.uri)).username == long_name
    renamed = await _row(sessions, old.uri)
    assert renamed is not None and renamed.username.endswith(f"~{old_actor.id}")
    assert len(renamed.username) == 255


async def test_allow_list_mode_neither_fetches_nor_looks_up_a_domain_not_allowed(
    config: Config, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    alice = remote.add_user("alice")
    allowlist = dataclasses.replace(
        config,
        federation=dataclasses.replace(config.federation, mode="allowlist", allowed_domains=("ok.example",)),
    )
    runtime = await Federation.open(allowlist, sessions)
    try:
        with pytest.raises(ActorUnavailable, match="blocked"):
            await runtime.actors.get(alice.uri)
        with pytest.raises(ActorUnavailable, match="blocked"):
            await runtime.actors.by_handle(f"alice@{remote.netloc}")  # no WebFinger lookup either
    finally:
        await runtime.close()
    assert sum(remote.gets.values()) == 0


async def test_an_actor_first_seen_by_several_requests_at_once_is_stored_once(
    actors: RemoteActors, remote: RemoteServer, sessions: async_sessionmaker
) -> None:
    # Activities of a new server's actor arriving together (make prove's crash_inbox): every
    # request fetches the unknown actor and stores it; all but the first find its row taken.
    alice = remote.add_user("alice")
    stored = await asyncio.gather(*(actors.get(alice.uri) for _ in range(4)))
    assert remote.gets[f"/users/{alice.slug}"] == 4
    assert len({actor.id for actor in stored}) == 1
    async with sessions() as session:
        assert len(list(await session.scalars(select(Actor).where(Actor.uri == alice.uri)))) == 1
