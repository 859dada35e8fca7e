"""A member blocks a member of another node, over HTTP with real signatures (A on SQLite, B on
PostgreSQL): alice on A blocks bob on B. B honours the Block: bob no longer reads alice's posts
there, and their follows are gone on both nodes; bob cannot follow alice while it stands.
Unblocking (Undo(Block)) lets him follow her again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.multinode.nodes import Node, query, running
from tests.support import run_cli
from tests.support.waiting import wait_until
from tests.web.test_pages import csrf_of

pytestmark = pytest.mark.multinode
PASSWORD = "correct horse battery staple"


@pytest.fixture
def nodes(tmp_path: Path, fresh_database: Callable[[str], str]) -> Iterator[tuple[Node, Node]]:
    a = Node("a", tmp_path / "a", fresh_database("sqlite"))
    b = Node("b", tmp_path / "b", fresh_database("postgresql"))
    a.cli_ok("user", "add", "alice", "--display-name", "Alice")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    assert run_cli("user", "password", "bob", cwd=b.directory, stdin=PASSWORD + "\n").returncode == 0
    with running((a, b)):
        yield a, b


def _follows(node: Node, username: str, followed: str) -> bool:
    edges = node.cli_json("following", username)
    return any(edge["id"] == followed and edge["state"] == "accepted" for edge in edges)


def _follow(node: Node, username: str, other: Node, followed: str) -> None:
    node.cli_json("follow", username, other.handle(followed))
    wait_until(lambda: _follows(node, username, other.actor_uri(followed)), what=f"{username} → {followed}")


def _signed_in(node: Node, username: str) -> httpx.Client:
    browser = httpx.Client(base_url=node.base_url, timeout=10, verify=node.verify)
    page = browser.get("/sign-in")
    signed = browser.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/"},
    )
    assert signed.status_code == 303, signed.text
    return browser


def _blocks_on(node: Node) -> int:
    return query(node, "SELECT count(*) FROM account_blocks")[0][0]


def test_a_block_across_nodes_is_honoured_and_lifted(nodes: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = nodes
    alice, bob = a.actor_uri("alice"), b.actor_uri("bob")
    _follow(b, "bob", a, "alice")
    _follow(a, "alice", b, "bob")
    body = tmp_path / "note.md"
    body.write_text("Alice's public note.")
    note = a.cli_ok("post", "note", "alice", "--file", str(body)).strip()
    wait_until(
        lambda: query(b, "SELECT count(*) FROM objects WHERE uri = :u", u=note)[0][0] == 1,
        what="the note on B",
    )
    browser = _signed_in(b, "bob")
    try:
        assert browser.get("/observed", params={"uri": note}).status_code == 200

        a.cli_ok("block", "alice", b.handle("bob"))

        wait_until(lambda: _blocks_on(b) == 1, what="the Block on B")
        wait_until(lambda: not _follows(b, "bob", alice), what="bob's follow of alice to end on B")
        assert not _follows(a, "alice", bob)
        assert all(edge["id"] != alice for edge in b.cli_json("followers", "bob"))
        assert all(edge["id"] != bob for edge in a.cli_json("followers", "alice"))
        assert browser.get("/observed", params={"uri": note}).status_code == 404
        refused = b.cli("follow", "bob", a.handle("alice"))
        assert refused.returncode == 1 and "a block stands" in refused.stderr

        a.cli_ok("unblock", "alice", b.handle("bob"))
        wait_until(lambda: _blocks_on(b) == 0, what="the Undo(Block) on B")
        assert browser.get("/observed", params={"uri": note}).status_code == 200
    finally:
        browser.close()
    _follow(b, "bob", a, "alice")
    assert [edge["id"] for edge in a.cli_json("followers", "alice")] == [bob]
