"""The inbox's rules, through HTTP: POSTs signed by actors of a real remote server on loopback.

The app runs in process (httpx.ASGITransport) without delivery workers; the tests run the
workers themselves when they want to see what was sent.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain import follows
from talentfed.domain.members import find_local_actor
from talentfed.federation.signatures import generate_rsa_keypair, verify_request
from talentfed.storage.models import (
    Activity,
    DeliveryJob,
    DomainBlock,
    Follow,
    Interaction,
    MediaAttachment,
    Object,
)
from tests.federation.local_node import Node, open_node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.support.factories import PUBLIC, activity_doc, create_doc, follow_doc, note_doc

# --- size and shape ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["declared", "lying", "absent"])
async def test_a_body_over_the_limit_is_413(node: Node, how: str) -> None:
    limit = node.config.federation.max_inbox_body_bytes
    chunk = b" " * 65536
    chunks = 2 * limit // len(chunk)  # twice the limit in all
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(chunks):
            sent += 1
            yield chunk

    if how == "declared":
        response = await node.client.post("/inbox", content=b" " * (limit + 1))
    else:  # Content-Length under the limit, or none at all: the body is counted as it streams
        headers = {"Content-Length": "2"} if how == "lying" else {}
        response = await node.client.post("/inbox", content=stream(), headers=headers)
        assert response.request.headers.get("content-length") == headers.get("Content-Length")
        assert sent < chunks, "the inbox read the whole body instead of stopping at the limit"
    assert response.status_code == 413, response.text
    assert await node.count(Activity) == 0


async def test_a_body_exactly_at_the_limit_is_read(node: Node, alice: RemoteUser) -> None:
    limit = node.config.federation.max_inbox_body_bytes
    body = json.dumps(follow_doc(alice.uri, node.actor_uri("bob"))).encode()
    body += b" " * (limit - len(body))  # whitespace: no string may be that long (limits.MAX_STRING)
    assert len(body) == limit
    response = await node.post("/inbox", body, signer=None)
    assert response.status_code == 401  # past the size check, stopped at the signature


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xff{not json", "not JSON"),
        (b'["https://remote.example/activities/1"]', "not a JSON object"),
        (b'{"type": "Follow", "actor": "https://remote.example/users/a"}', "no id"),
        (b'{"id": "urn:x:1", "type": "Follow", "actor": "https://remote.example/users/a"}', "no id"),
        (b'{"id": "https://remote.example/a/1", "actor": "https://remote.example/users/a"}', "no type"),
        (b'{"id": "https://remote.example/a/1", "type": "Follow"}', "no actor"),
    ],
)
async def test_a_malformed_activity_is_400(node: Node, body: bytes, reason: str) -> None:
    response = await node.post("/inbox", body, signer=None)
    assert response.status_code == 400
    assert reason in response.json()["reason"]


async def test_a_personal_inbox_of_an_unknown_member_is_404(node: Node, alice: RemoteUser) -> None:
    response = await node.post("/users/nobody/inbox", follow_doc(alice.uri, node.actor_uri("nobody")), alice)
    assert response.status_code == 404
    assert await node.count(Activity) == 0


# --- signatures ---------------------------------------------------------------------------


async def test_an_unsigned_activity_is_401(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    response = await node.post("/users/bob/inbox", follow_doc(alice.uri, node.actor_uri("bob")), signer=None)
    assert response.status_code == 401
    assert "not signed" in response.json()["reason"]
    assert await node.count(Activity) == 0 and await node.count(Follow) == 0
    assert sum(remote.gets.values()) == 0  # refused before any fetch


async def test_a_bad_signature_is_401(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    forged_pem, _ = generate_rsa_keypair()
    response = await node.to_bob(follow_doc(alice.uri, node.actor_uri("bob")), alice, private_pem=forged_pem)
    assert response.status_code == 401
    assert "Verification failed" in response.json()["reason"]
    assert remote.gets["/users/alice"] >= 1  # it did look the key up
    assert await node.count(Activity) == 0 and await node.count(Follow) == 0


async def test_both_signature_schemes_are_accepted(node: Node, alice: RemoteUser) -> None:
    for scheme in ("cavage", "rfc9421"):
        response = await node.to_bob(
            activity_doc(alice.uri, "ExampleUnhandled", alice.uri), alice, scheme=scheme
        )
        assert response.status_code == 202, (scheme, response.text)
    assert await node.count(Activity) == 2


async def test_signed_by_another_actor_and_not_served_by_its_origin_is_401(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    mallory = remote.add_user("mallory")
    claimed = follow_doc(alice.uri, node.actor_uri("bob"))  # its id is not served: 404 at the origin
    response = await node.to_bob(claimed, mallory)
    assert response.status_code == 401
    assert "not fetchable from its origin" in response.json()["reason"]
    assert remote.gets[f"/activities/{claimed['id'].rsplit('/', 1)[1]}"] == 1

    # An id on another host than the actor's cannot be a forwarded copy at all.
    elsewhere = {**claimed, "id": "http://127.0.0.1:9/activities/1"}
    response = await node.to_bob(elsewhere, mallory)
    assert response.status_code == 401
    assert await node.count(Follow) == 0 and await node.count(Activity) == 0


async def test_a_forwarded_activity_is_accepted_as_its_origin_serves_it(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    note = {"id": f"{remote.base}/notes/1", "type": "Note", "attributedTo": alice.uri, "content": "original"}
    original = activity_doc(alice.uri, "Create", note, to=[PUBLIC])
    remote.serve(original)
    mallory = remote.add_user("mallory")  # e.g. the author of the post alice replied to
    tampered = json.loads(json.dumps(original))
    tampered["object"]["content"] = "tampered"

    response = await node.post("/inbox", tampered, mallory)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Activity).where(Activity.uri == original["id"]))
    assert stored is not None and stored.actor_uri == alice.uri
    assert stored.document["object"]["content"] == "original"


async def test_a_forwarded_activity_that_its_origin_serves_with_another_actor_is_401(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    mallory = remote.add_user("mallory")
    served = activity_doc(mallory.uri, "ExampleUnhandled", f"{remote.base}/things/1")
    remote.serve(served)
    claimed = {**served, "actor": alice.uri}  # mallory's activity, passed off as alice's
    response = await node.post("/inbox", claimed, mallory)
    assert response.status_code == 401
    assert "another actor" in response.json()["reason"]
    assert await node.count(Activity) == 0


async def test_a_forwarded_activity_whose_origin_redirects_elsewhere_is_401(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    """An open redirect on the actor's host must not let another host speak for the actor."""
    mallory = remote.add_user("mallory")
    async with RemoteServer() as other:
        note = {"id": f"{remote.base}/notes/2", "type": "Note", "attributedTo": alice.uri, "content": "fake"}
        planted = {**activity_doc(alice.uri, "Create", note), "id": other.activity_id("planted")}
        other.serve(planted)
        forwarded = {**planted, "id": remote.activity_id("redirecting")}
        remote.redirects["/activities/redirecting"] = planted["id"]

        response = await node.post("/inbox", forwarded, mallory)
        assert other.gets["/activities/planted"] == 1  # the redirect was followed, then refused
    assert response.status_code == 401, response.text
    assert await node.count(Activity) == 0


# --- blocks and origins ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor", ["https://blocked.example/users/x", "https://social.blocked.example/users/x"]
)
async def test_a_domain_blocked_in_the_configuration_is_403(
    config: Config, engine: AsyncEngine, actor: str
) -> None:
    blocking = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, blocked_domains=("blocked.example",))
    )
    document = {"id": actor + "/activities/1", "type": "Follow", "actor": actor, "object": "x"}
    async with open_node(blocking, engine) as node:
        response = await node.post("/inbox", document, signer=None)
        assert response.status_code == 403, response.text
        assert await node.count(Activity) == 0


async def test_a_domain_blocked_by_moderation_is_403(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, private_comment="spam"))
    response = await node.to_bob(follow_doc(alice.uri, node.actor_uri("bob")), alice)
    assert response.status_code == 403
    assert sum(remote.gets.values()) == 0  # not even its key was fetched
    assert await node.count(Follow) == 0 and await node.count(Activity) == 0


async def test_a_block_of_a_parent_domain_covers_subdomains(node: Node) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain="spam.example"))
    actor = "https://eu.mastodon.spam.example/users/x"
    document = {"id": actor + "/1", "type": "Follow", "actor": actor, "object": node.actor_uri("bob")}
    response = await node.post("/inbox", document, signer=None)
    assert response.status_code == 403
    # …but not a domain that merely ends with the same letters.
    lookalike = "https://notspam.example/users/x"
    document = {"id": lookalike + "/1", "type": "Follow", "actor": lookalike, "object": node.actor_uri("bob")}
    assert (await node.post("/inbox", document, signer=None)).status_code == 401


@pytest.mark.parametrize("kind", ["Create", "Update", "Delete"])
async def test_an_object_on_another_host_than_its_actor_is_403(
    node: Node, alice: RemoteUser, kind: str
) -> None:
    obj = {"id": "https://elsewhere.example/notes/1", "type": "Note", "attributedTo": alice.uri}
    response = await node.post(
        "/inbox", activity_doc(alice.uri, kind, obj if kind != "Delete" else obj["id"]), alice
    )
    assert response.status_code == 403
    assert "not on the actor's host" in response.json()["reason"]
    assert await node.count(Activity) == 0


# --- once per activity; unknown types -----------------------------------------------------------


async def test_an_unknown_type_is_accepted_stored_and_logged(
    node: Node, alice: RemoteUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="talentfed.inbox")
    unknown = activity_doc(alice.uri, "ExampleUnhandled", f"{alice.server.base}/things/1")
    response = await node.post("/inbox", unknown, alice)
    assert response.status_code == 202
    assert "not handled" in response.json()["reason"]
    async with node.sessions() as session:
        stored = await session.scalar(select(Activity).where(Activity.uri == unknown["id"]))
    assert stored is not None and stored.type == "ExampleUnhandled" and stored.local is False
    assert stored.document == unknown
    assert any("unhandled type" in record.getMessage() for record in caplog.records)


async def test_a_duplicate_is_accepted_and_stored_once(node: Node, alice: RemoteUser) -> None:
    follow = follow_doc(alice.uri, node.actor_uri("bob"))
    first = await node.to_bob(follow, alice)
    second = await node.to_bob(follow, alice, scheme="rfc9421")
    assert (first.status_code, second.status_code) == (202, 202)
    assert "duplicate" in second.json()["reason"]
    assert await node.count(Activity, Activity.uri == follow["id"]) == 1
    assert await node.count(DeliveryJob) == 1  # one Accept, not two


# --- follows --------------------------------------------------------------------------------------


async def test_a_follow_is_accepted_and_the_accept_goes_to_the_followers_own_inbox(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    bob = node.actor_uri("bob")
    follow = follow_doc(alice.uri, bob)
    response = await node.to_bob(follow, alice)
    assert response.status_code == 202 and response.json()["reason"] == "follow accepted"
    assert await node.follow_state(alice.uri, bob) == "accepted"

    async with node.sessions() as session:
        job, accept = (
            await session.execute(
                select(DeliveryJob, Activity).join(Activity, Activity.id == DeliveryJob.activity_id)
            )
        ).one()
        bob_actor = await find_local_actor(session, "bob")
    assert job.inbox_url == alice.inbox  # not her server's shared inbox
    assert (job.host, job.state, job.signer_id) == (remote.netloc, "queued", bob_actor.id)
    assert accept.document["type"] == "Accept" and accept.document["actor"] == bob
    assert accept.document["object"] == {
        "id": follow["id"],
        "type": "Follow",
        "actor": alice.uri,
        "object": bob,
    }

    # And it really goes out, signed by bob.
    await node.federation.new_worker().run_until_idle()
    [received] = remote.received
    assert received.path == "/users/alice/inbox" and received.json() == accept.document

    async def bobs_key(key_id: str, refresh: bool = False) -> str:
        assert key_id == bob_actor.public_key_id
        return bob_actor.public_key_pem

    await verify_request(
        "POST", received.url, received.headers, received.body, resolve_key=bobs_key, our_hosts={remote.netloc}
    )


async def test_a_follow_of_a_member_who_approves_by_hand_stays_pending(node: Node, alice: RemoteUser) -> None:
    carol = node.actor_uri("carol")
    response = await node.post("/users/carol/inbox", follow_doc(alice.uri, carol), alice)
    assert response.status_code == 202 and "pending" in response.json()["reason"]
    assert await node.follow_state(alice.uri, carol) == "pending"
    assert await node.count(DeliveryJob) == 0


async def _bob_follows(node: Node, user: RemoteUser) -> str:
    """bob follows a remote user (a Follow is queued); returns the Follow's id."""
    target = await node.federation.actors.get(user.uri)
    async with node.sessions() as session, session.begin():
        bob = await find_local_actor(session, "bob")
        target = await session.merge(target)
        edge = await follows.follow(session, node.config, bob, target)
        return edge.uri


@pytest.mark.parametrize("match", ["embedded", "bare id", "unknown id"])
async def test_an_accept_accepts_our_follow(
    node: Node, remote: RemoteServer, alice: RemoteUser, match: str
) -> None:
    bob = node.actor_uri("bob")
    follow_id = await _bob_follows(node, alice)
    assert await node.follow_state(bob, alice.uri) == "pending"

    embedded = {"id": follow_id, "type": "Follow", "actor": bob, "object": alice.uri}
    if match == "bare id":
        embedded = follow_id
    elif match == "unknown id":  # Mastodon's fallback: match by actor and object
        embedded = {**embedded, "id": f"{remote.base}/follows/rewritten"}

    # An Accept from someone who was not asked changes nothing.
    mallory = remote.add_user("mallory")
    response = await node.post("/inbox", activity_doc(mallory.uri, "Accept", embedded), mallory)
    assert response.status_code == 202 and "ignored" in response.json()["reason"]
    assert await node.follow_state(bob, alice.uri) == "pending"

    response = await node.post("/inbox", activity_doc(alice.uri, "Accept", embedded), alice)
    assert response.status_code == 202 and response.json()["reason"] == "our follow was accepted"
    assert await node.follow_state(bob, alice.uri) == "accepted"


async def test_a_reject_removes_our_follow(node: Node, alice: RemoteUser) -> None:
    bob = node.actor_uri("bob")
    follow_id = await _bob_follows(node, alice)
    response = await node.post("/inbox", activity_doc(alice.uri, "Reject", follow_id), alice)
    assert response.status_code == 202 and response.json()["reason"] == "our follow was rejected"
    assert await node.follow_state(bob, alice.uri) is None


@pytest.mark.parametrize("form", ["embedded", "bare id", "embedded, unknown id"])
async def test_undo_follow_removes_the_follow(node: Node, alice: RemoteUser, form: str) -> None:
    bob = node.actor_uri("bob")
    follow = follow_doc(alice.uri, bob)
    assert (await node.to_bob(follow, alice)).status_code == 202
    assert await node.follow_state(alice.uri, bob) == "accepted"
    undone: Any = {"id": follow["id"], "type": "Follow", "actor": alice.uri, "object": bob}
    if form == "bare id":
        undone = follow["id"]
    elif form == "embedded, unknown id":
        undone["id"] = alice.server.activity_id("never-seen")

    response = await node.to_bob(activity_doc(alice.uri, "Undo", undone), alice)
    assert response.status_code == 202 and response.json()["reason"] == "follow undone"
    assert await node.follow_state(alice.uri, bob) is None


async def test_undo_of_another_actors_follow_is_400(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    bob = node.actor_uri("bob")
    follow = follow_doc(alice.uri, bob)
    assert (await node.to_bob(follow, alice)).status_code == 202
    mallory = remote.add_user("mallory")
    undone = {"id": follow["id"], "type": "Follow", "actor": alice.uri, "object": bob}
    # mallory's activity, on mallory's own host: only the Undo rule can refuse it.
    response = await node.to_bob(activity_doc(mallory.uri, "Undo", undone), mallory)
    assert response.status_code == 400
    assert await node.follow_state(alice.uri, bob) == "accepted"


async def test_undo_without_an_object_id_undoes_nothing(node: Node, alice: RemoteUser) -> None:
    """An Undo whose object has no id must not match rows whose id is missing (NULL)."""
    bob = node.actor_uri("bob")
    assert (await node.to_bob(follow_doc(alice.uri, bob), alice)).status_code == 202
    sender = await node.actor(alice.uri)
    async with node.sessions() as session, session.begin():
        session.add(Interaction(kind="mention", actor_id=sender.id, activity_uri=None))

    response = await node.to_bob(activity_doc(alice.uri, "Undo", {"type": "Like", "object": bob}), alice)
    assert response.status_code == 202 and "ignored" in response.json()["reason"]
    assert await node.count(Interaction, Interaction.actor_id == sender.id) == 1
    assert await node.follow_state(alice.uri, bob) == "accepted"


# --- actors: Update and Delete ----------------------------------------------------------------------


async def test_an_update_of_the_actor_refreshes_the_cached_copy(node: Node, alice: RemoteUser) -> None:
    await node.federation.actors.get(alice.uri)
    assert (await node.actor(alice.uri)).display_name == "Alice"
    update = activity_doc(
        alice.uri, "Update", alice.document(name="Alice Renamed", summary="<p>Now in Lyon</p>")
    )
    response = await node.post("/inbox", update, alice)
    assert response.status_code == 202 and response.json()["reason"] == "actor updated"
    refreshed = await node.actor(alice.uri)
    assert refreshed.display_name == "Alice Renamed" and refreshed.summary == "<p>Now in Lyon</p>"


async def test_an_update_of_another_actor_is_400(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    carol = remote.add_user("carol")  # same host, so only the handler's rule can refuse it
    await node.federation.actors.get(carol.uri)
    update = activity_doc(alice.uri, "Update", carol.document(name="Carol, per Alice"))
    response = await node.post("/inbox", update, alice)
    assert response.status_code == 400
    assert (await node.actor(carol.uri)).display_name == "Carol"
    assert await node.count(Activity, Activity.uri == update["id"]) == 0


async def test_a_delete_of_the_actor_removes_it_its_follows_and_its_objects(
    node: Node, alice: RemoteUser
) -> None:
    bob = node.actor_uri("bob")
    assert (await node.to_bob(follow_doc(alice.uri, bob), alice)).status_code == 202  # alice → bob
    await _bob_follows(node, alice)  # bob → alice
    sender = await node.actor(alice.uri)
    async with node.sessions() as session, session.begin():
        session.add(Object(uri=f"{alice.server.base}/notes/1", type="Note", kind="note", author_id=sender.id))
    assert await node.count(Follow) == 2

    alice.gone = True  # her server now answers 410; we still have her key
    response = await node.post("/inbox", activity_doc(alice.uri, "Delete", alice.uri), alice)
    assert response.status_code == 202 and response.json()["reason"] == "actor deleted"
    assert await node.actor(alice.uri) is None
    assert await node.count(Follow) == 0
    assert await node.count(Object) == 0


async def test_a_delete_of_an_actor_whose_key_is_gone_is_ignored(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    alice.gone = True  # never seen here, and its document answers 410
    response = await node.post("/inbox", activity_doc(alice.uri, "Delete", alice.uri), alice)
    assert response.status_code == 202 and "ignored" in response.json()["reason"]
    assert remote.gets["/users/alice"] >= 1
    assert await node.actor(alice.uri) is None and await node.count(Activity) == 0
    # Anything else from an actor whose key cannot be fetched is refused.
    response = await node.to_bob(follow_doc(alice.uri, node.actor_uri("bob")), alice)
    assert response.status_code == 401


# --- key rotation -----------------------------------------------------------------------------------


async def test_a_rotated_key_is_refetched_once(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    bob = node.actor_uri("bob")
    follow = follow_doc(alice.uri, bob)
    assert (await node.to_bob(follow, alice)).status_code == 202
    assert remote.gets["/users/alice"] == 1

    old_pem = alice.private_pem
    alice.rotate_key()
    undo = activity_doc(alice.uri, "Undo", follow["id"])
    response = await node.to_bob(undo, alice)
    assert response.status_code == 202, response.text
    assert remote.gets["/users/alice"] == 2  # exactly one refetch
    assert (await node.actor(alice.uri)).public_key_pem == alice.public_pem
    assert await node.follow_state(alice.uri, bob) is None

    # The new key is now the cached one: no more fetches; the old key no longer works.
    assert (await node.to_bob(follow_doc(alice.uri, bob), alice)).status_code == 202
    assert remote.gets["/users/alice"] == 2
    stale = await node.to_bob(follow_doc(alice.uri, bob), alice, private_pem=old_pem)
    assert stale.status_code == 401


@pytest.mark.parametrize(("severity", "reject_media"), [("silence", False), ("noop", True)])
async def test_a_silenced_or_media_rejecting_domain_is_heard_without_its_media(
    node: Node, remote: RemoteServer, alice: RemoteUser, severity: str, reject_media: bool
) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, severity=severity, reject_media=reject_media))
    picture = {"type": "Document", "mediaType": "image/png", "url": f"{alice.uri}/pic.png"}
    note = note_doc(alice.uri, to=[PUBLIC], attachment=[picture])
    response = await node.to_bob(create_doc(alice.uri, note), alice)
    assert response.status_code == 202, response.text
    assert await node.count(Object, Object.uri == note["id"]) == 1
    assert await node.count(MediaAttachment) == (0 if reject_media else 1)


async def test_a_media_rejecting_domain_keeps_no_avatar_or_header(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, severity="noop", reject_media=True))
    pictures = {
        "icon": {"type": "Image", "url": f"{alice.uri}/avatar.png"},
        "image": {"type": "Image", "url": f"{alice.uri}/header.png"},
    }
    await node.federation.actors.get(alice.uri)  # fetched: no pictures kept
    update = activity_doc(alice.uri, "Update", alice.document(name="Alice Again", **pictures))
    assert (await node.post("/inbox", update, alice)).status_code == 202
    stored = await node.actor(alice.uri)
    assert stored.display_name == "Alice Again" and (stored.icon_url, stored.image_url) == (None, None)


async def test_allow_list_mode_refuses_every_domain_not_allowed(config: Config, engine: AsyncEngine) -> None:
    allowlist = dataclasses.replace(
        config,
        federation=dataclasses.replace(config.federation, mode="allowlist", allowed_domains=("ok.example",)),
    )
    async with open_node(allowlist, engine) as node:
        for actor, status in (("https://other.example/users/x", 403), ("https://ok.example/users/x", 401)):
            document = {"id": actor + "/activities/1", "type": "Follow", "actor": actor, "object": "x"}
            response = await node.post("/inbox", document, signer=None)
            assert response.status_code == status, response.text  # allowed: on to the signature check
        assert await node.count(Activity) == 0
