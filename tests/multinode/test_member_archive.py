"""`talentfed import-follows` and `talentfed export` between two real nodes: a Mastodon following
list, bad lines included, is followed line by line over WebFinger and signed HTTP, and the
member's export is a list the next import reads."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.multinode.nodes import Node, running
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node]]:
    a = Node("a", tmp_path / "a", fresh_database("sqlite"))
    b = Node("b", tmp_path / "b", fresh_database("postgresql"))
    a.cli_ok("user", "add", "alice", "--display-name", "Alice")
    a.cli_ok("user", "add", "ann", "--display-name", "Ann")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    b.cli_ok("user", "add", "carol", "--display-name", "Carol", "--manual-approval")
    with running((a, b)):
        yield a, b


def _following(node: Node, user: str) -> dict[str, str]:
    return {edge["id"]: edge["state"] for edge in node.cli_json("following", user)}


def test_import_a_mastodon_following_list_then_export_it(nodes: tuple[Node, Node], tmp_path: Path) -> None:
    a, b = nodes
    bob, carol = b.actor_uri("bob"), b.actor_uri("carol")
    listing = tmp_path / "following_accounts.csv"
    listing.write_text(
        "Account address,Show boosts,Notify on new posts,Languages\n"
        f"bob@{b.domain},true,false,\n"
        f"@carol@{b.domain},true,true,en\n"
        "\n"
        "not an address,true,false,\n"
        f"nobody@{b.domain},true,false,\n"
        f"alice@{a.domain},true,false,\n"
        f"carol@{b.domain},true,false,\n"
    )

    result = a.cli("import-follows", "alice", str(listing))
    assert result.returncode == 1, result.stderr  # some lines failed; every line was tried
    lines = result.stdout.splitlines()
    assert lines[0] == f"line 2: bob@{b.domain}: Follow sent (pending until accepted)"
    assert lines[1] == f"line 3: @carol@{b.domain}: Follow sent (pending until accepted)"
    assert lines[2].startswith("line 5: not an address: cannot resolve not an address: expected a handle")
    assert lines[3].startswith(f"line 6: nobody@{b.domain}: cannot resolve") and "404" in lines[3]
    assert lines[4] == f"line 7: alice@{a.domain}: an account cannot follow itself"
    assert lines[5] == f"line 8: carol@{b.domain}: Follow sent again (pending until accepted)"
    assert lines[6] == "3 of 6 accounts followed or asked; 3 failed"

    wait_until(lambda: _following(a, "alice").get(bob) == "accepted", what="bob's server to accept")
    requests = lambda: [edge["id"] for edge in b.cli_json("follow-requests", "list", "carol")]  # noqa: E731
    wait_until(lambda: a.actor_uri("alice") in requests(), what="alice's request to reach carol")
    assert _following(a, "alice") == {bob: "accepted", carol: "pending"}

    # The export lists the accepted follow; imported by another member, it makes her follow too.
    export = tmp_path / "alice"
    a.cli_ok("export", "alice", str(export))
    with (export / "following_accounts.csv").open() as exported:
        assert list(csv.reader(exported))[1:] == [[f"bob@{b.domain}", "true", "false", ""]]
    assert "already holds actor.json" in a.cli("export", "alice", str(export)).stderr
    actor = json.loads((export / "actor.json").read_text())
    assert actor["id"] == a.actor_uri("alice") and actor["publicKey"]["owner"] == actor["id"]

    again = a.cli("import-follows", "ann", str(export / "following_accounts.csv"), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == [
        {
            "line": 2,
            "address": f"bob@{b.domain}",
            "ok": True,
            "outcome": "Follow sent (pending until accepted)",
        }
    ]
    wait_until(lambda: _following(a, "ann") == {bob: "accepted"}, what="bob's server to accept ann")

    unknown = a.cli("import-follows", "nobody", str(listing))
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "talentfed: username: no member called 'nobody'"
