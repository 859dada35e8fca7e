"""The shared test factories make what the code under test accepts, and the waits fail clearly."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.federation.actor_documents import parse_actor
from talentfed.federation.post_reader import carried_objects, read_post
from talentfed.federation.signatures import verify_request
from tests.support import (
    SCHEMES,
    actor_doc,
    create_doc,
    event_set,
    eventually,
    post_doc,
    signed_headers,
    signed_post,
    wait_until,
)
from tests.support.connections import watched_connections

AUTHOR = "https://lab.example/users/kim"


@pytest.mark.parametrize("kind", ["note", "article", "question", "answer", "project"])
def test_post_documents_read_back_as_their_kind(kind: str) -> None:
    document = post_doc(kind, AUTHOR)
    post = read_post(document)
    assert (post.uri, post.kind, post.attributed_to) == (document["id"], kind, AUTHOR)
    assert post.visibility == "public"
    create = create_doc(AUTHOR, document)
    assert (create["type"], create["actor"], create["to"]) == ("Create", AUTHOR, document["to"])
    [carried] = carried_objects(create)
    assert read_post(carried).kind == kind


def test_an_actor_document_parses(rsa_key_pool: list[tuple[str, str]]) -> None:
    _, public_pem = rsa_key_pool[0]
    actor = parse_actor(actor_doc(AUTHOR, public_pem=public_pem, shared_inbox="https://lab.example/inbox"))
    assert (actor.id, actor.inbox, actor.shared_inbox) == (
        AUTHOR,
        AUTHOR + "/inbox",
        "https://lab.example/inbox",
    )


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_signed_requests_verify(scheme: str, rsa_key_pool: list[tuple[str, str]]) -> None:
    private_pem, public_pem = rsa_key_pool[0]
    key_id = AUTHOR + "#main-key"

    async def resolve(asked: str, refresh: bool = False) -> str:
        assert asked == key_id
        return public_pem

    url = "https://uni.example/users/ada/inbox"
    body, headers = signed_post(
        url, {"type": "Follow"}, key_id=key_id, private_pem=private_pem, scheme=scheme
    )
    signed = await verify_request("POST", url, headers, body, resolve_key=resolve, our_hosts={"uni.example"})
    assert (signed.key_id, signed.scheme) == (key_id, scheme)
    headers = signed_headers("GET", url, key_id=key_id, private_pem=private_pem, scheme=scheme)
    signed = await verify_request("GET", url, headers, None, resolve_key=resolve, our_hosts={"uni.example"})
    assert "accept" in signed.covered


async def test_waits_return_what_they_waited_for_and_name_it_on_timeout() -> None:
    seen = []
    assert await eventually(lambda: seen.append(1) or len(seen) >= 3, interval=0) is True
    with pytest.raises(
        AssertionError, match=r"timed out after 0.05 s waiting for the queue \(last value: 0\)"
    ):
        await eventually(lambda: 0, timeout=0.05, what="the queue")
    with pytest.raises(AssertionError, match="waiting for the unit to start"):
        await event_set(asyncio.Event(), timeout=0.01, what="the unit to start")
    with pytest.raises(AssertionError, match=r"waiting for nothing \(last value: None\)"):
        wait_until(lambda: None, timeout=0.01, interval=0.001, what="nothing")


async def test_connections_are_counted_for_the_task_that_holds_them(engine: AsyncEngine) -> None:
    with watched_connections(engine) as watcher:
        assert watcher.held_by_current_task() == 0
        other_holds, release = asyncio.Event(), asyncio.Event()

        async def hold_elsewhere() -> None:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                other_holds.set()
                await release.wait()

        other = asyncio.create_task(hold_elsewhere())
        await other_holds.wait()
        assert watcher.held_by_current_task() == 0  # another task's connection is not ours
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            assert watcher.held_by_current_task() == 1
        assert watcher.held_by_current_task() == 0
        release.set()
        await other
