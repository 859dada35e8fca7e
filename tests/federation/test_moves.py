"""Receiving Move: a remote account moves, and our members who followed it follow the new one.

Signed POSTs from a real remote server on loopback to our node in process, on both back-ends;
the Move shapes are GoToSocial's (shared fixture) and Mastodon's ({actor, object: actor, target},
id a fragment of the actor), the target document BookWyrm's aliased Person (shared fixture).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from talentfed.domain import follows
from talentfed.domain.members import find_local_actor
from talentfed.federation import jsonld
from talentfed.federation.actor_documents import parse_actor
from talentfed.federation.remote_actors import store_actor
from talentfed.federation.render import actor_document
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.fixtures_path import fixture
from tests.support.factories import AS, activity_doc, local_actor_row

AS_NS = "https://www.w3.org/ns/activitystreams#"


@pytest.fixture
def new_alice(remote: RemoteServer, alice: RemoteUser) -> RemoteUser:
    """Alice's new account, which names the old one among its aliases."""
    return remote.add_user("alice_new", extra={"alsoKnownAs": [alice.uri]})


def move_doc(origin: RemoteUser, target: str, **fields: Any) -> dict[str, Any]:
    """A Move as Mastodon sends it: id a fragment of the actor, object = actor, no addressing."""
    return {
        "@context": AS,
        "id": f"{origin.uri}#moves/{len(origin.server.received) + id(fields)}",
        "type": "Move",
        "actor": origin.uri,
        "object": origin.uri,
        "target": target,
    } | fields


async def follow_accepted(node: Node, username: str, user: RemoteUser) -> None:
    """`username` follows `user`, and the Accept has come back."""
    followed = await node.federation.actors.fetch(user.uri)
    async with node.sessions() as session, session.begin():
        member = await find_local_actor(session, username)
        edge = await follows.follow(session, node.config, member, await session.merge(followed))
        edge.state = "accepted"


async def jobs_of(node: Node, kind: str) -> list[str]:
    """The inboxes that activities of `kind` were queued for."""
    async with node.sessions() as session:
        rows = await session.scalars(
            select(DeliveryJob.inbox_url).join(Activity, Activity.id == DeliveryJob.activity_id).where(
                Activity.type == kind, Activity.local.is_(True)
            )
        )
        return sorted(rows)


async def test_a_move_carries_our_followers_to_the_new_account(
    node: Node, alice: RemoteUser, new_alice: RemoteUser
) -> None:
    await follow_accepted(node, "bob", alice)
    await follow_accepted(node, "carol", alice)

    response = await node.to_bob(move_doc(alice, new_alice.uri), alice)

    assert response.status_code == 202, response.text
    for member in ("bob", "carol"):
        assert await node.follow_state(node.actor_uri(member), alice.uri) is None
        assert await node.follow_state(node.actor_uri(member), new_alice.uri) == "pending"
    # Two Follows of alice (before), two of her new account (now), two Undo of the old follows.
    assert await jobs_of(node, "Follow") == [alice.inbox] * 2 + [new_alice.inbox] * 2
    assert sorted(await jobs_of(node, "Undo")) == [alice.inbox, alice.inbox]
    origin = await node.actor(alice.uri)
    assert origin is not None and origin.moved_to_uri == new_alice.uri
    target = await node.actor(new_alice.uri)
    assert target is not None and target.also_known_as == [alice.uri]


async def test_a_move_received_twice_changes_nothing_more(
    node: Node, alice: RemoteUser, new_alice: RemoteUser
) -> None:
    await follow_accepted(node, "bob", alice)
    first = await node.to_bob(move_doc(alice, new_alice.uri), alice)
    again = await node.to_bob(move_doc(alice, new_alice.uri, summary="sent again"), alice)  # a new id
    repeated = await node.post("/inbox", move_doc(alice, new_alice.uri), alice)

    assert (first.status_code, again.status_code, repeated.status_code) == (202, 202, 202)
    assert "0 local followers" in again.json()["reason"]
    assert await node.count(Follow) == 1
    assert await node.follow_state(node.actor_uri("bob"), new_alice.uri) == "pending"
    assert len(await jobs_of(node, "Follow")) == 2 and len(await jobs_of(node, "Undo")) == 1


async def test_the_target_is_fetched_afresh(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    """A cached copy of the target from before it named the origin does not decide."""
    later = remote.add_user("alice_later")
    await node.federation.actors.fetch(later.uri)  # cached, without the alias
    await follow_accepted(node, "bob", alice)
    later.extra["alsoKnownAs"] = [alice.uri]
    gets_before = remote.gets["/users/alice_later"]

    response = await node.to_bob(move_doc(alice, later.uri), alice)

    assert response.status_code == 202, response.text
    assert remote.gets["/users/alice_later"] == gets_before + 1
    assert await node.follow_state(node.actor_uri("bob"), later.uri) == "pending"


# --- refused: nothing changes ---------------------------------------------------------------


async def _nothing_changed(node: Node, alice: RemoteUser, target: str) -> None:
    assert await node.follow_state(node.actor_uri("bob"), alice.uri) == "accepted"
    assert await node.follow_state(node.actor_uri("bob"), target) is None
    assert await jobs_of(node, "Undo") == [] and len(await jobs_of(node, "Follow")) == 1
    origin = await node.actor(alice.uri)
    assert origin is not None and origin.moved_to_uri is None
    assert await node.count(Activity, Activity.type == "Move") == 0


async def test_a_target_that_does_not_name_the_origin_is_400(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    stranger = remote.add_user("stranger")  # no alsoKnownAs at all
    await follow_accepted(node, "bob", alice)

    response = await node.to_bob(move_doc(alice, stranger.uri), alice)

    assert response.status_code == 400
    assert response.json()["reason"] == (
        f"the target {stranger.uri} does not list {alice.uri} in its alsoKnownAs"
    )
    await _nothing_changed(node, alice, stranger.uri)


async def test_a_target_that_has_moved_on_is_400(node: Node, remote: RemoteServer, alice: RemoteUser) -> None:
    """One hop only: a target that has itself moved is not followed, nor what it moved to."""
    elsewhere = remote.add_user("elsewhere", extra={"alsoKnownAs": [f"{remote.base}/users/hop"]})
    hop = remote.add_user("hop", extra={"alsoKnownAs": [alice.uri], "movedTo": elsewhere.uri})
    await follow_accepted(node, "bob", alice)

    response = await node.to_bob(move_doc(alice, hop.uri), alice)

    assert response.status_code == 400
    assert f"has itself moved to {elsewhere.uri}" in response.json()["reason"]
    await _nothing_changed(node, alice, hop.uri)
    assert await node.follow_state(node.actor_uri("bob"), elsewhere.uri) is None


async def test_a_move_of_another_account_is_400(
    node: Node, alice: RemoteUser, new_alice: RemoteUser, remote: RemoteServer
) -> None:
    mallory = remote.add_user("mallory")
    await follow_accepted(node, "bob", alice)

    response = await node.to_bob(move_doc(mallory, new_alice.uri, object=alice.uri), mallory)

    assert response.status_code == 400
    assert "its object must be its actor" in response.json()["reason"]
    await _nothing_changed(node, alice, new_alice.uri)


async def test_a_move_signed_by_someone_else_is_401(
    node: Node, alice: RemoteUser, new_alice: RemoteUser, remote: RemoteServer
) -> None:
    mallory = remote.add_user("mallory")
    await follow_accepted(node, "bob", alice)
    move = activity_doc(alice.uri, "Move", alice.uri, target=new_alice.uri)  # not served by alice's server

    response = await node.to_bob(move, mallory)

    assert response.status_code == 401
    assert f"signed by {mallory.uri}, not by the actor" in response.json()["reason"]
    await _nothing_changed(node, alice, new_alice.uri)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (None, "a Move needs a target"),
        ("javascript:alert(1)", "a Move needs a target"),
        ("http://127.0.0.1:9/users/gone", "the Move's target could not be fetched"),
    ],
)
async def test_a_move_without_a_usable_target_is_400(
    node: Node, alice: RemoteUser, target: str | None, reason: str
) -> None:
    await follow_accepted(node, "bob", alice)
    move = move_doc(alice, "")
    if target is None:
        del move["target"]
    else:
        move["target"] = target

    response = await node.to_bob(move, alice)

    assert response.status_code == 400
    assert reason in response.json()["reason"]
    await _nothing_changed(node, alice, str(target))


# --- real documents ---------------------------------------------------------------------------


def _fixture_json(*parts: str, replace: dict[str, str]) -> dict[str, Any]:
    text = fixture(*parts).read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    return json.loads(text)


async def test_gotosocials_move_to_bookwyrms_aliased_person(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    """GoToSocial's Move (its documentation's example) naming a BookWyrm Person (BookWyrm's test
    data) that lists the origin in `alsoKnownAs`; both moved onto the remote server."""
    moose = f"{remote.base}/user/moose"
    target = _fixture_json(
        "actors",
        "bookwyrm-person-aliased.json",
        replace={"https://example.com/user/ali": alice.uri, "https://example.com": remote.base},
    )
    remote.serve(target)
    move = _fixture_json(
        "objects",
        "gotosocial-docs-move.json",
        replace={
            "https://example.org/users/1happyturtle": alice.uri,
            "https://another-server.com/users/my_new_account_hurray": moose,
        },
    )
    await follow_accepted(node, "bob", alice)

    response = await node.to_bob(move, alice)

    assert response.status_code == 202, response.text
    assert await node.follow_state(node.actor_uri("bob"), moose) == "pending"
    assert await node.follow_state(node.actor_uri("bob"), alice.uri) is None
    assert await jobs_of(node, "Follow") == sorted([alice.inbox, f"{moose}/inbox"])


async def test_an_aliased_and_moved_gotosocial_actor_is_stored_with_both(node: Node) -> None:
    document = json.loads(fixture("actors", "gotosocial-account-to-as-aliased-and-moved.json").read_text())
    async with node.sessions() as session, session.begin():
        stored = await store_actor(session, parse_actor(document))
        assert stored.also_known_as == ["http://localhost:8080/users/1happyturtle"]
        assert stored.moved_to_uri == "http://localhost:8080/users/1happyturtle"
    async with node.sessions() as session:
        again = await session.scalar(select(Actor).where(Actor.uri == document["id"]))
        assert again is not None and again.also_known_as == ["http://localhost:8080/users/1happyturtle"]


def test_our_actor_document_publishes_aliases_and_the_move_under_activitystreams_iris() -> None:
    """`alsoKnownAs` comes from the ActivityStreams context, `movedTo` from our inline one: both
    expand to the IRIs Mastodon reads."""
    now = datetime.now(UTC)
    member = local_actor_row("ada", also_known_as=["https://old.example/users/ada"], created_at=now)
    member.moved_to_uri = "https://new.example/users/ada"
    document = actor_document(member, LocalURIs("https://uni.example"))
    assert document["alsoKnownAs"] == ["https://old.example/users/ada"]
    assert document["movedTo"] == "https://new.example/users/ada"
    [expanded] = jsonld.expand(document)
    assert expanded[f"{AS_NS}alsoKnownAs"] == [{"@id": "https://old.example/users/ada"}]
    assert expanded[f"{AS_NS}movedTo"] == [{"@id": "https://new.example/users/ada"}]
    unmoved = actor_document(local_actor_row("grace", created_at=now), LocalURIs("https://uni.example"))
    assert "alsoKnownAs" not in unmoved and "movedTo" not in unmoved
