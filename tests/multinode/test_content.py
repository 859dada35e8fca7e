"""Posts across three real nodes: project calls, answers, accepted answers, edits, deletes, announces."""

from __future__ import annotations

import json
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
    a.cli_ok("user", "add", "ada", "--display-name", "Ada", "--skills", "Speech Recognition")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    c.cli_ok("user", "add", "dave", "--display-name", "Dave")
    with running((a, b, c)):
        yield a, b, c


def _object(node: Node, uri: str) -> dict | None:
    rows = query(
        node,
        "SELECT kind, skills, status, deadline, accepted_answer_uri, name, deleted_at, content "
        "FROM objects WHERE uri = :u",
        u=uri,
    )
    if not rows:
        return None
    kind, skills, status, deadline, accepted, name, deleted_at, content = rows[0]
    skills = json.loads(skills) if isinstance(skills, str) else skills  # SQLite hands JSON back as text
    return {
        "kind": kind,
        "skills": skills,
        "status": status,
        "deadline": deadline,
        "accepted": accepted,
        "name": name,
        "deleted": deleted_at is not None,
        "content": content,
    }


def test_posts_federate_with_their_structured_fields(nodes: tuple[Node, Node, Node], tmp_path: Path) -> None:
    a, b, c = nodes
    b.cli_json("follow", "bob", a.handle("ada"))
    c.cli_json("follow", "dave", a.handle("institution"))
    wait_until(lambda: len(a.cli_json("followers", "ada")) == 1, what="bob to follow ada")
    wait_until(
        lambda: len(a.cli_json("followers", "institution")) == 1, what="dave to follow the institution"
    )
    wait_until(
        lambda: all(e["state"] == "accepted" for e in b.cli_json("following", "bob")), what="accept on B"
    )

    body = tmp_path / "body.md"
    body.write_text("We are building a **speech corpus**. Write to us!")
    project = a.cli_json(
        "post",
        "project",
        "ada",
        "--title",
        "Swahili speech corpus",
        "--file",
        str(body),
        "--skills",
        "Speech Recognition,Swahili",
        "--deadline",
        "2099-06-30",
        "--team-size",
        "3",
    )
    url = project["url"]

    # B (a follower of ada) gets the project call with its fields as data, not only as HTML.
    on_b = wait_until(lambda: _object(b, url), what="the project call on B")
    assert on_b["kind"] == "project" and on_b["status"] == "open"
    assert on_b["skills"] == ["speech recognition", "swahili"]
    assert str(on_b["deadline"]).startswith("2099-06-30")
    assert "Swahili speech corpus" in on_b["content"]
    # C follows only the institution, which announces its members' project calls.
    on_c = wait_until(
        lambda: _object(c, url), what="the project call on C through the institution's Announce"
    )
    assert on_c["kind"] == "project" and on_c["skills"] == ["speech recognition", "swahili"]

    # A question on A; an answer from B arrives at A as an answer.
    question = a.cli_json("post", "question", "ada", "--title", "Best alignment tool?", "--file", str(body))[
        "url"
    ]
    wait_until(lambda: _object(b, question), what="the question on B")
    answer_file = tmp_path / "answer.md"
    answer_file.write_text("Montreal Forced Aligner works well.")
    answer = b.cli_json("answer", "bob", question, "--file", str(answer_file))["url"]
    on_a = wait_until(lambda: _object(a, answer), what="B's answer on A")
    assert on_a["kind"] == "answer"

    # Accepting it on A updates the question on B.
    a.cli_ok("accept", "ada", answer)
    wait_until(
        lambda: (_object(b, question) or {}).get("accepted") == answer, what="the accepted answer on B"
    )
    replies = a.get_json(question.removeprefix(a.base_url) + "/replies")
    assert replies["orderedItems"][0] == answer

    # An edit on A (through the JSON API) changes B's copy.
    token = a.cli_ok("user", "token", "ada").strip()
    object_path = url.removeprefix(f"{a.base_url}/objects/")
    edited = httpx.patch(
        f"{a.base_url}/api/talentfed/v1/posts/{object_path}",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={"title": "Swahili speech corpus 2.0"},
    )
    assert edited.status_code == 200, edited.text
    wait_until(
        lambda: (_object(b, url) or {}).get("name") == "Swahili speech corpus 2.0", what="the edit on B"
    )

    # Closing it is an update too; deleting it removes B's copy, and A answers 410.
    a.cli_ok("project", "close", "ada", url)
    wait_until(lambda: (_object(b, url) or {}).get("status") == "closed", what="the closed status on B")
    a.cli_ok("delete", "ada", url)
    wait_until(lambda: (_object(b, url) or {}).get("deleted"), what="the delete on B")
    gone = httpx.get(url, headers={"Accept": "application/activity+json"}, timeout=5)
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"
