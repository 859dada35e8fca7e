"""Account migration across three real nodes (A and C on SQLite, B on PostgreSQL), over HTTP
with real signatures: a member moves from A to B with followers on B and C, then another from
B to A; the followers follow the new account, the old one shows the move and cannot post."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.multinode.nodes import Node, query, running, three_nodes
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node, Node]]:
    a, b, c = three_nodes(tmp_path, fresh_database)
    for node, username in ((a, "alice"), (a, "ann2"), (b, "alice2"), (b, "bea"), (b, "bob"), (c, "dave")):
        node.cli_ok("user", "add", username, "--display-name", username.title())
    with running((a, b, c)):
        yield a, b, c


def _follows(node: Node, username: str, followed: str) -> bool:
    return any(
        edge["id"] == followed and edge["state"] == "accepted"
        for edge in node.cli_json("following", username)
    )


def _followers(node: Node, username: str) -> list[str]:
    return [edge["id"] for edge in node.cli_json("followers", username)]


def _follow(node: Node, username: str, other: Node, followed: str) -> None:
    node.cli_json("follow", username, other.handle(followed))
    wait_until(lambda: _follows(node, username, other.actor_uri(followed)), what=f"{username} → {followed}")


def _move(old: Node, old_name: str, new: Node, new_name: str, followers: list[tuple[Node, str]]) -> None:
    """`old_name` on `old` moves to `new_name` on `new`; each follower then follows the new account."""
    new.cli_ok("alias", "add", new_name, old.handle(old_name))
    assert new.get_json(f"/users/{new_name}")["alsoKnownAs"] == [old.actor_uri(old_name)]
    moved = old.cli_json("move", old_name, new.handle(new_name))
    assert moved["to"] == new.actor_uri(new_name)

    target = new.actor_uri(new_name)
    for node, follower in followers:
        wait_until(
            lambda node=node, follower=follower: _follows(node, follower, target),
            timeout=60,
            what=f"{follower} to follow {new_name}",
        )
        assert not any(e["id"] == old.actor_uri(old_name) for e in node.cli_json("following", follower))
    wait_until(lambda: _followers(old, old_name) == [], timeout=60, what="the old follows to be undone")

    assert old.get_json(f"/users/{old_name}")["movedTo"] == target
    profile = httpx.get(f"{old.base_url}/@{old_name}", timeout=10, follow_redirects=True)
    assert "has moved to" in profile.text and f"@{new_name}@{new.domain}" in profile.text
    refused = old.cli("post", "note", old_name, "--file", "-")
    assert refused.returncode == 1 and f"account: this account has moved to {target}" in refused.stderr


def test_moving_from_a_to_b_and_from_b_to_a(nodes: tuple[Node, Node, Node]) -> None:
    a, b, c = nodes
    _follow(b, "bob", a, "alice")
    _follow(c, "dave", a, "alice")
    _follow(a, "ann2", b, "bea")  # ann2 follows bea, then receives her: A's own member is carried over
    _follow(c, "dave", b, "bea")

    _move(a, "alice", b, "alice2", [(b, "bob"), (c, "dave")])
    _move(b, "bea", a, "ann2", [(c, "dave")])

    # Every node recorded the moves on its copy of the old accounts.
    assert query(c, "SELECT moved_to_uri FROM actors WHERE uri = :u", u=a.actor_uri("alice")) == [
        (b.actor_uri("alice2"),)
    ]
    assert query(a, "SELECT moved_to_uri FROM actors WHERE uri = :u", u=b.actor_uri("bea")) == [
        (a.actor_uri("ann2"),)
    ]
    # ann2 followed bea and is bea now: she does not follow herself.
    assert not any(e["id"] == a.actor_uri("ann2") for e in a.cli_json("following", "ann2"))


def test_a_move_to_an_account_that_does_not_name_the_member_is_refused(
    nodes: tuple[Node, Node, Node],
) -> None:
    a, b, c = nodes
    _follow(c, "dave", a, "alice")

    refused = a.cli("move", "alice", b.handle("alice2"))

    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"talentfed: target: the target {b.actor_uri('alice2')} does not list "
        f"{a.actor_uri('alice')} in its alsoKnownAs"
    )
    assert "movedTo" not in a.get_json("/users/alice")
    assert query(a, "SELECT count(*) FROM activities WHERE type = 'Move'") == [(0,)]
    assert _follows(c, "dave", a.actor_uri("alice"))
