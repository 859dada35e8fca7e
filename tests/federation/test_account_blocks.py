"""Blocks between accounts over the wire: a remote actor's `Block` of our member, signed and
through the real inbox, ends the follows between them and hides the blocker's posts from the
member; `Undo(Block)` lifts it. A member's block makes the blocked actor's Follow a Reject and
their signed fetches read nothing of the member's. On both back-ends."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from talentfed.domain import member_blocks, posts
from talentfed.domain.members import find_local_actor
from talentfed.domain.visibility import Viewer, may_read
from talentfed.storage.models import AccountBlock, Activity, Object
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteUser
from tests.federation.test_moves import follow_accepted, jobs_of
from tests.support.factories import AS, AS_JSON, activity_doc, note_doc
from tests.support.signing import signed_headers


def block_doc(user: RemoteUser, target: str, name: str = "block") -> dict[str, Any]:
    return {
        "@context": AS,
        "id": user.server.activity_id(f"{name}-{user.slug}"),
        "type": "Block",
        "actor": user.uri,
        "object": target,
    }


def follow_doc(user: RemoteUser, target: str, name: str) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": user.server.activity_id(name),
        "type": "Follow",
        "actor": user.uri,
        "object": target,
    }


async def _alices_post(node: Node, alice: RemoteUser) -> Object:
    """alice publishes a public note, delivered to bob."""
    note = note_doc(alice.uri, content="<p>alice's public note</p>")
    response = await node.to_bob(activity_doc(alice.uri, "Create", note), alice)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == note["id"]))
    assert found is not None
    return found


async def _bob_reads(node: Node, post: Object) -> bool:
    async with node.sessions() as session:
        bob = await find_local_actor(session, "bob")
        return await may_read(session, Viewer(actor_id=bob.id), post)


async def _blocks(node: Node) -> list[tuple[str, str | None]]:
    async with node.sessions() as session:
        rows = await session.scalars(select(AccountBlock))
        return [(str(block.blocker_id) + ">" + str(block.blocked_id), block.uri) for block in rows]


async def test_a_received_block_ends_follows_and_hides_the_blocker(node: Node, alice: RemoteUser) -> None:
    await node.follow_from(alice, "bob")  # bob follows back at once
    await follow_accepted(node, "bob", alice)
    post = await _alices_post(node, alice)
    assert await _bob_reads(node, post)

    response = await node.to_bob(block_doc(alice, node.actor_uri("bob")), alice)

    assert response.status_code == 202, response.text
    assert response.json()["reason"] == "block recorded"
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) is None
    assert await node.follow_state(node.actor_uri("bob"), alice.uri) is None
    assert await jobs_of(node, "Undo") == [alice.inbox]  # bob's follow of alice
    assert await jobs_of(node, "Reject") == [alice.inbox]  # alice's follow of bob
    assert [uri for _, uri in await _blocks(node)] == [alice.server.activity_id("block-alice")]
    assert not await _bob_reads(node, post)  # blocked_by: the blocker's posts are not shown

    # While it stands, a follow either way is refused: bob's here, alice's by a Reject.
    refused = await node.to_bob(follow_doc(alice, node.actor_uri("bob"), "follow-again"), alice)
    assert refused.status_code == 202 and refused.json()["reason"] == "follow refused: a block stands"
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) is None
    assert await jobs_of(node, "Reject") == [alice.inbox, alice.inbox]

    embedded = block_doc(alice, node.actor_uri("bob"))
    undo = activity_doc(alice.uri, "Undo", embedded)
    lifted = await node.to_bob(undo, alice)
    assert lifted.status_code == 202 and lifted.json()["reason"] == "block undone"
    assert await _blocks(node) == []
    assert await _bob_reads(node, post)
    followed = await node.to_bob(follow_doc(alice, node.actor_uri("bob"), "follow-after-undo"), alice)
    assert followed.json()["reason"] == "follow accepted"
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) == "accepted"


async def test_an_undo_may_name_the_block_by_id_alone(node: Node, alice: RemoteUser) -> None:
    block = block_doc(alice, node.actor_uri("carol"), "by-id")
    assert (await node.post("/users/carol/inbox", block, alice)).status_code == 202
    assert len(await _blocks(node)) == 1
    undo = activity_doc(alice.uri, "Undo", block["id"])
    assert (await node.post("/users/carol/inbox", undo, alice)).json()["reason"] == "block undone"
    assert await _blocks(node) == []


async def test_blocks_of_someone_not_ours_or_by_another_actor_change_nothing(
    node: Node, alice: RemoteUser
) -> None:
    mallory = alice.server.add_user("mallory")
    elsewhere = await node.to_bob(block_doc(alice, mallory.uri, "block-elsewhere"), alice)
    assert elsewhere.status_code == 202 and "not ours" in elsewhere.json()["reason"]
    assert await _blocks(node) == []

    assert (await node.to_bob(block_doc(alice, node.actor_uri("bob")), alice)).status_code == 202
    # mallory cannot lift alice's block, naming it by id or embedding it.
    foreign = activity_doc(mallory.uri, "Undo", block_doc(alice, node.actor_uri("bob")))
    assert (await node.to_bob(foreign, mallory)).status_code == 400
    by_id = activity_doc(mallory.uri, "Undo", alice.server.activity_id("block-alice"))
    assert (await node.to_bob(by_id, mallory)).json()["reason"] == "undo of nothing we know; ignored"
    assert len(await _blocks(node)) == 1


async def _signed_get(node: Node, path: str, reader: RemoteUser) -> httpx.Response:
    url = node.config.node.base_url + path
    headers = signed_headers("GET", url, key_id=reader.key_id, private_pem=reader.private_pem)
    return await node.client.get(path, headers=headers | {"Accept": AS_JSON})


async def test_whom_a_member_blocks_cannot_follow_nor_fetch_their_posts(
    node: Node, alice: RemoteUser
) -> None:
    async with node.sessions() as session, session.begin():
        bob = await find_local_actor(session, "bob")
        post = await posts.publish(session, node.config, bob, posts.Draft(kind="note", body="Hello all"))
    assert (await _signed_get(node, f"/objects/{post.uri.rsplit('/', 1)[-1]}", alice)).status_code == 200
    await node.follow_from(alice, "bob")

    async with node.sessions() as session, session.begin():
        bob, them = await find_local_actor(session, "bob"), await node.federation.actors.fetch(alice.uri)
        await member_blocks.block(session, node.config, bob, await session.merge(them))
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) is None
    assert await jobs_of(node, "Block") == [alice.inbox]
    async with node.sessions() as session:
        sent = await session.scalar(select(Activity).where(Activity.type == "Block"))
        assert sent is not None and sent.document["object"] == alice.uri

    fetched = await _signed_get(node, f"/objects/{post.uri.rsplit('/', 1)[-1]}", alice)
    assert fetched.status_code == 404
    outbox = await _signed_get(node, "/users/bob/outbox?page=1", alice)
    assert outbox.status_code == 200 and post.uri not in outbox.text
    anyone = await node.client.get("/users/bob/outbox?page=1", headers={"Accept": AS_JSON})
    assert post.uri in anyone.text  # the block concerns alice, not the public

    refused = await node.to_bob(follow_doc(alice, node.actor_uri("bob"), "follow-blocked"), alice)
    assert refused.json()["reason"] == "follow refused: a block stands"
    assert await node.follow_state(alice.uri, node.actor_uri("bob")) is None
