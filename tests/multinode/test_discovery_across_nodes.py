"""Discovery across three real nodes: after federation and a crawl, A recommends B's member and
B's project call to A's member, naming the shared skills; C's opted-out member never appears."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.multinode.nodes import Node, running, three_nodes
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node, Node]]:
    a, b, c = three_nodes(tmp_path, fresh_database)
    a.cli_ok("user", "add", "ada", "--display-name", "Ada", "--skills", "Speech Recognition,Python")
    a.cli_ok("user", "add", "amir", "--display-name", "Amir", "--skills", "Speech Recognition")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob", "--skills", "#SpeechRecognition,Kaldi")
    c.cli_ok("user", "add", "carl", "--display-name", "Carl", "--skills", "Speech Recognition,Python")
    c.cli_ok("user", "set", "carl", "--indexable", "false")
    c.cli_ok("user", "add", "dave", "--display-name", "Dave", "--skills", "Gardening")
    with running((a, b, c)):
        yield a, b, c


def test_recommendations_after_federation_and_crawl(nodes: tuple[Node, Node, Node], tmp_path: Path) -> None:
    a, b, c = nodes
    a.cli_json("follow", "ada", b.handle("bob"))
    b.cli_json("follow", "bob", c.handle("carl"))
    c.cli_json("follow", "dave", b.handle("bob"))
    wait_until(lambda: len(b.cli_json("followers", "bob")) == 2, what="ada and dave to follow bob")
    wait_until(
        lambda: all(e["state"] == "accepted" for e in b.cli_json("following", "bob")), what="carl's Accept"
    )
    wait_until(
        lambda: all(e["state"] == "accepted" for e in a.cli_json("following", "ada")), what="bob's Accept"
    )

    body = tmp_path / "call.md"
    body.write_text("We build an open speech recognition benchmark.")
    project = b.cli_json(
        "post",
        "project",
        "bob",
        "--title",
        "Open ASR benchmark",
        "--file",
        str(body),
        "--skills",
        "Speech Recognition,Benchmarking",
        "--deadline",
        "2099-01-01",
    )["url"]
    wait_until(lambda: any(p["url"] == project for p in _projects(a)), what="bob's project call on A")

    crawl = a.cli_json("crawl", "--depth", "1")
    assert crawl["new_actors"] >= 2  # carl and dave, seen in bob's collections
    a.cli_ok("analytics", "run")

    people = a.cli_json("discover", "people", "ada")
    assert people and people[0]["uri"] == b.actor_uri("bob")
    assert "speech recognition" in people[0]["shared_skills"]
    assert all(p["uri"] != c.actor_uri("carl") for p in people)  # indexable: false
    assert all(p["uri"] != a.actor_uri("amir") for p in people)  # same institution, by default

    calls = a.cli_json("discover", "projects", "ada")
    assert calls and calls[0]["uri"] == project
    assert calls[0]["shared_skills"] == ["speech recognition"]

    ranking = a.cli_json("influence", "--skill", "speech recognition")
    assert c.actor_uri("carl") not in [entry["uri"] for entry in ranking]
    assert b.actor_uri("bob") in [entry["uri"] for entry in ranking]


def _projects(node: Node) -> list[dict]:
    import httpx

    return httpx.get(f"{node.base_url}/api/talentfed/v1/projects", timeout=5).json()["items"]
