"""Three real nodes (one on PostgreSQL) federating over HTTP with real signatures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from talentfed.federation.signatures import generate_rsa_keypair
from tests.multinode.nodes import Node, private_key_of, query, running, three_nodes
from tests.support.signing import signed_post
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node, Node]]:
    a, b, c = three_nodes(tmp_path, fresh_database)
    a.cli_ok("user", "add", "alice", "--display-name", "Alice", "--skills", "NLP")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    b.cli_ok("user", "add", "carol", "--display-name", "Carol", "--manual-approval")
    c.cli_ok("user", "add", "dave", "--display-name", "Dave")
    with running((a, b, c)):
        yield a, b, c


def _state(node: Node, command: str, user: str, other: str) -> str | None:
    for edge in node.cli_json(command, user):
        if edge["id"] == other:
            return edge["state"]
    return None


def _signed_post(inbox: str, activity: dict, key_id: str, private_pem: str, **sign_options) -> httpx.Response:
    body, headers = signed_post(inbox, activity, key_id=key_id, private_pem=private_pem, **sign_options)
    return httpx.post(inbox, content=body, headers=headers, timeout=10)


def test_follow_accept_approve_undo_and_collections(nodes: tuple[Node, Node, Node]) -> None:
    a, b, c = nodes
    alice, bob, carol, dave = (
        a.actor_uri("alice"),
        b.actor_uri("bob"),
        b.actor_uri("carol"),
        c.actor_uri("dave"),
    )

    # Follow by handle (WebFinger), auto-accepted by bob's node.
    first = a.cli_json("follow", "alice", b.handle("bob"))
    assert first["state"] == "pending"
    wait_until(lambda: _state(a, "following", "alice", bob) == "accepted", what="bob's Accept to reach A")
    assert _state(b, "followers", "bob", alice) == "accepted"

    # Collections on both sides.
    assert b.get_json("/users/bob/followers")["totalItems"] == 1
    assert b.get_json("/users/bob/followers?page=1")["orderedItems"] == [alice]
    assert a.get_json("/users/alice/following?page=1")["orderedItems"] == [bob]

    # Manual approval: pending until carol accepts.
    c.cli_json("follow", "dave", b.handle("carol"))
    wait_until(
        lambda: any(e["id"] == dave for e in b.cli_json("follow-requests", "list", "carol")),
        what="dave's request to reach carol",
    )
    assert _state(c, "following", "dave", carol) == "pending"
    b.cli_ok("follow-requests", "accept", "carol", c.handle("dave"))
    wait_until(lambda: _state(c, "following", "dave", carol) == "accepted", what="carol's Accept to reach C")
    assert b.get_json("/users/carol/followers")["totalItems"] == 1

    # Undo(Follow) removes the follow on the other side.
    a.cli_ok("unfollow", "alice", b.handle("bob"))
    wait_until(lambda: b.get_json("/users/bob/followers")["totalItems"] == 0, what="Undo to reach B")
    assert _state(a, "following", "alice", bob) is None

    # Rejection: dave asks carol again after a reject.
    c.cli_ok("unfollow", "dave", b.handle("carol"))
    wait_until(lambda: b.get_json("/users/carol/followers")["totalItems"] == 0, what="Undo to reach carol")
    c.cli_json("follow", "dave", b.handle("carol"))
    wait_until(
        lambda: any(e["id"] == dave for e in b.cli_json("follow-requests", "list", "carol")),
        what="the second request",
    )
    b.cli_ok("follow-requests", "reject", "carol", c.handle("dave"))
    wait_until(lambda: _state(c, "following", "dave", carol) is None, what="Reject to reach C")


def test_forged_wrong_origin_and_stale_requests_are_rejected(nodes: tuple[Node, Node, Node]) -> None:
    a, b, _ = nodes
    alice = a.actor_uri("alice")
    inbox = f"{b.base_url}/users/bob/inbox"
    key_id, private_pem = private_key_of(a, "alice")
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{a.base_url}/activities/{uuid.uuid4().hex}",
        "type": "Follow",
        "actor": alice,
        "object": b.actor_uri("bob"),
    }

    # A forged signature: alice's key id, somebody else's key.
    forged_pem, _ = generate_rsa_keypair()
    forged = _signed_post(inbox, follow, key_id, forged_pem)
    assert forged.status_code == 401, forged.text

    # A stale request: correctly signed two hours ago.
    stale = _signed_post(inbox, follow, key_id, private_pem, now=datetime.now(UTC) - timedelta(hours=2))
    assert stale.status_code == 401 and "date" in stale.text.lower()

    # A Create whose object lives on another host than its actor.
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{a.base_url}/activities/{uuid.uuid4().hex}",
        "type": "Create",
        "actor": alice,
        "object": {
            "id": f"{b.base_url}/objects/not-alices",
            "type": "Note",
            "content": "hi",
            "attributedTo": alice,
        },
    }
    wrong_origin = _signed_post(inbox, create, key_id, private_pem)
    assert wrong_origin.status_code == 403, wrong_origin.text

    # Nothing of these was stored or acted on; a genuine request then works, once.
    assert query(b, "SELECT count(*) FROM follows")[0][0] == 0
    genuine = _signed_post(inbox, follow, key_id, private_pem, scheme="rfc9421")
    assert genuine.status_code == 202, genuine.text
    replay = _signed_post(inbox, follow, key_id, private_pem)
    assert replay.status_code == 202 and "duplicate" in replay.text
    assert query(b, "SELECT count(*) FROM activities WHERE uri = :u", u=follow["id"])[0][0] == 1
    assert query(b, "SELECT count(*) FROM follows")[0][0] == 1


def test_receiver_down_gets_everything_once_after_it_returns(nodes: tuple[Node, Node, Node]) -> None:
    _, b, c = nodes
    dave = c.actor_uri("dave")
    c.cli_json("follow", "dave", b.handle("carol"))
    wait_until(
        lambda: any(e["id"] == dave for e in b.cli_json("follow-requests", "list", "carol")),
        what="dave's request",
    )

    c.stop()
    b.cli_ok("follow-requests", "accept", "carol", c.handle("dave"))  # an Accept to a dead inbox
    b.cli_json("follow", "bob", c.handle("dave"))  # and a Follow
    wait_until(
        lambda: (
            query(b, "SELECT count(*) FROM delivery_jobs WHERE attempts > 0 AND state = 'queued'")[0][0] >= 1
        ),
        what="B to fail and schedule a retry",
    )

    c.start()
    wait_until(
        lambda: _state(c, "following", "dave", b.actor_uri("carol")) == "accepted",
        timeout=60,
        what="carol's Accept after C came back",
    )
    wait_until(
        lambda: _state(b, "following", "bob", dave) == "accepted",
        timeout=60,
        what="bob's follow accepted by C",
    )
    jobs = query(b, "SELECT state, attempts FROM delivery_jobs WHERE host = :h", h=c.domain)
    assert all(state == "done" for state, _ in jobs), jobs
    assert any(attempts > 1 for _, attempts in jobs), jobs
    assert "duplicate" not in c.log()
    received = query(c, "SELECT uri, count(*) FROM activities WHERE local = :no GROUP BY uri", no=False)
    assert received and all(count == 1 for _, count in received)
