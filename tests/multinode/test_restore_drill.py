"""The restore drill: back up a running node, lose its database, restore it, and check that the
federation does not notice — its followers are still there and other servers still verify its
signatures with the keys they know. On SQLite and on PostgreSQL (the node backed up; the other
node is on SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.multinode.nodes import Node, query, running
from tests.support.databases import destroy_database
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


def _follow_state(node: Node, command: str, user: str, other: str) -> str | None:
    return next((edge["state"] for edge in node.cli_json(command, user) if edge["id"] == other), None)


def _stored(node: Node, uri: str) -> bool:
    return bool(query(node, "SELECT 1 FROM objects WHERE uri = :u", u=uri))


def _key_known_to(node: Node, actor: str) -> str:
    return query(node, "SELECT public_key_pem FROM actors WHERE uri = :u", u=actor)[0][0]


def test_restored_node_keeps_its_followers_and_keys(
    tmp_path: Path, backend: str, fresh_database
) -> None:
    a = Node("a", tmp_path / "a", fresh_database(backend, schema=False))
    b = Node("b", tmp_path / "b", fresh_database("sqlite"))
    a.cli_ok("user", "add", "alice", "--display-name", "Alice")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    alice, bob = a.actor_uri("alice"), b.actor_uri("bob")
    body = tmp_path / "note.md"
    archive = tmp_path / "a.backup"

    with running((b,)):
        with running((a,)):
            b.cli_json("follow", "bob", a.handle("alice"))
            wait_until(lambda: _follow_state(b, "following", "bob", alice) == "accepted", what="A's Accept")
            body.write_text("Before the backup.")
            before = a.cli_ok("post", "note", "alice", "--file", str(body)).strip()
            wait_until(lambda: _stored(b, before), what="the first note on B")
            published_key = a.get_json("/users/alice")["publicKey"]["publicKeyPem"]
            assert _key_known_to(b, alice) == published_key

            made = a.cli_ok("backup", str(archive))  # while A serves
            assert "private key" in made

        destroy_database(a.db_url)
        restored = a.cli_ok("restore", str(archive))
        assert "(current)" in restored

        with running((a,)):  # the same port, so the same domain and URLs
            assert _follow_state(a, "followers", "alice", bob) == "accepted"
            assert a.get_json("/users/alice/followers?page=1")["orderedItems"] == [bob]
            assert a.get_json("/users/alice")["publicKey"]["publicKeyPem"] == published_key
            outbox = a.get_json("/users/alice/outbox?page=1")["orderedItems"]
            assert [item["object"]["id"] for item in outbox] == [before]

            # Delivered to B, which verifies A's signature with the key it already knew: at the
            # first attempt, without fetching another key.
            body.write_text("After the restore.")
            after = a.cli_ok("post", "note", "alice", "--file", str(body)).strip()
            wait_until(lambda: _stored(b, after), what="the note written after the restore on B")
            assert _key_known_to(b, alice) == published_key
            deliveries = "SELECT j.state, j.attempts, j.last_status FROM delivery_jobs j JOIN activities"
            deliveries += " ON activities.id = j.activity_id WHERE activities.object_uri = :u"
            wait_until(lambda: query(a, deliveries, u=after)[0][0] == "done", what="A to record the delivery")
            assert query(a, deliveries, u=after) == [("done", 1, 202)]
