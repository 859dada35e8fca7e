"""talentfed and Fedify federating for real: WebFinger, follows, posts, answers, Update, Delete,
and HTTP signatures in both schemes both ways.

The peer (tests/interop/fedify_peer/peer.mjs) reads JSON-LD strictly — only the contexts Fedify
ships, nothing fetched — and reports, for everything it receives, the strict expansion or why it
failed. talentfed's terms must come out of that expansion under their full IRIs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.interop.peer import CAVAGE, RFC9421, FedifyPeer
from tests.multinode.nodes import Node, query
from tests.support.waiting import wait_until

pytestmark = pytest.mark.interop

TF = "https://w3id.org/talentfed#"
AS = "https://www.w3.org/ns/activitystreams#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


# --- reading what the peer reports ----------------------------------------------------------


def _term(expanded: dict[str, Any], iri: str) -> list[Any]:
    """The values (@value, or @id for references) of property `iri` in an expanded node."""
    return [value.get("@value", value.get("@id")) for value in expanded.get(iri, [])]


def _strictly_expanded(report: dict[str, Any], what: str) -> dict[str, Any]:
    """The one top-level node of a strict expansion; fails with the peer's reason if there is none."""
    if report.get("expansionError"):
        pytest.fail(
            f"{what}: a strict JSON-LD processor cannot read it: {report['expansionError']}\n"
            f"@context sent: {json.dumps((report.get('raw') or {}).get('@context'))}"
        )
    assert len(report["expanded"]) == 1, report["expanded"]
    return report["expanded"][0]


def _object_id(activity: dict[str, Any] | None) -> str | None:
    target = (activity or {}).get("object")
    return target.get("id") if isinstance(target, dict) else target


def _inbox_posts(peer: FedifyPeer, activity_type: str, object_id: str) -> list[dict[str, Any]]:
    return [
        entry
        for entry in peer.received()
        if (entry.get("raw") or {}).get("type") == activity_type and _object_id(entry["raw"]) == object_id
    ]


def _explain(entries: list[dict[str, Any]]) -> str:
    keys = ("path", "scheme", "status", "response", "refusedByPeer", "unverified", "expansionError", "fedify")
    return json.dumps([{key: entry.get(key) for key in keys} for entry in entries], indent=1)


def _delivered(peer: FedifyPeer, activity_type: str, object_id: str) -> dict[str, Any]:
    """The POST of this activity that Fedify verified and handled; all attempts are in the message."""
    what = f"{activity_type} of {object_id} at the peer"

    def answered() -> bool:  # refused by the peer's RFC 9421 switch (401): the node retries
        return any(
            entry.get("status") not in (None, 401) for entry in _inbox_posts(peer, activity_type, object_id)
        )

    try:
        wait_until(answered, timeout=30, what=what)
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; attempts: {_explain(_inbox_posts(peer, activity_type, object_id))}"
        ) from None
    attempts = _inbox_posts(peer, activity_type, object_id)
    handled = [entry for entry in attempts if entry.get("status") == 202 and entry.get("fedify")]
    assert handled, f"Fedify did not accept the {what}: {_explain(attempts)}"
    return handled[0]


def _posts_to(peer: FedifyPeer, inbox: str) -> list[tuple[str, int]]:
    """(signature scheme, status) of each POST the peer made to `inbox`, in order."""
    return [(sent["scheme"], sent["status"]) for sent in peer.sent() if sent["url"] == inbox]


def _follow_state(node: Node, command: str, other: str) -> str | None:
    return next((edge["state"] for edge in node.cli_json(command, "ada") if edge["id"] == other), None)


def _publish(node: Node, directory: Path, kind: str, title: str, *options: str) -> str:
    body = directory / f"{kind}.md"
    body.write_text(f"{title}: the body of a {kind}, in **Markdown**.\n")
    return node.cli_json("post", kind, "ada", "--title", title, "--file", str(body), *options)["url"]


# --- the tests ------------------------------------------------------------------------------------


def test_fedify_looks_a_member_up_by_handle_and_reads_talentfed_terms(peer: FedifyPeer, node: Node) -> None:
    ada = node.actor_uri("ada")
    found = peer.lookup(node.handle("ada"))

    assert found["webfinger"]["subject"] == f"acct:ada@{node.domain}"
    actor = _strictly_expanded(found, "ada's actor document")
    if found.get("fedifyError"):
        pytest.fail(f"Fedify's lookupObject failed: {found['fedifyError']}")
    assert found["fedify"] == {
        "type": "Person",
        "id": ada,
        "preferredUsername": "ada",
        "name": "Ada Lovelace",
        "inbox": f"{ada}/inbox",
    }
    assert sorted(_term(actor, TF + "skills")) == ["nlp", "rust"]
    assert _term(actor, TF + "headline") == ["Analytical engines"]
    assert _term(actor, TF + "openToCollaboration") == [True]
    assert _term(actor, TF + "affiliation") == [node.actor_uri("institution")]


def test_follows_posts_answers_updates_and_deletes_with_both_signature_schemes(
    peer: FedifyPeer, node: Node, tmp_path: Path
) -> None:
    ada = node.actor_uri("ada")
    _peer_follows_ada(peer, node)
    _ada_follows_back(peer, node)

    article = _publish(node, tmp_path, "article", "On engines", "--summary", "Engines, briefly")
    question = _publish(node, tmp_path, "question", "Which engine?")
    _assert_post_received(peer, article, "Article", "article", scheme=CAVAGE)
    _assert_post_received(peer, question, "Note", "question", scheme=CAVAGE)

    # The peer now refuses draft-cavage: our node must knock again with RFC 9421.
    peer.require_rfc9421(True)
    project = _publish(
        node, tmp_path, "project", "Build an engine", "--skills", "NLP,Rust", "--deadline", "2027-03-01"
    )
    call = _assert_post_received(peer, project, "Note", "projectCall", scheme=RFC9421)[AS + "object"][0]
    assert sorted(_term(call, TF + "skills")) == ["nlp", "rust"]
    assert _term(call, TF + "projectStatus") == ["open"]
    deadline = call[TF + "deadline"][0]
    assert deadline["@value"].startswith("2027-03-01") and deadline["@type"] == XSD_DATETIME, deadline
    refused = [entry for entry in _inbox_posts(peer, "Create", project) if entry.get("refusedByPeer")]
    assert [entry["scheme"] for entry in refused] == [CAVAGE], _explain(refused)

    _peer_answers_the_question(peer, node, question, ada)
    _ada_closes_the_project_and_deletes_the_article(peer, node, project, article)
    peer.require_rfc9421(False)


# --- the steps --------------------------------------------------------------------------------


def _peer_follows_ada(peer: FedifyPeer, node: Node) -> None:
    """Follow signed draft-cavage; the node's Accept (draft-cavage too) is verified by Fedify."""
    ada = node.actor_uri("ada")
    follow = peer.follow(ada, sign=CAVAGE)
    assert _posts_to(peer, f"{ada}/inbox") == [(CAVAGE, 202)]
    wait_until(
        lambda: _follow_state(node, "followers", peer.actor_id) == "accepted",
        what="fedi among ada's followers",
    )
    accept = _delivered(peer, "Accept", follow)
    assert accept["scheme"] == CAVAGE, _explain([accept])
    assert accept["fedify"]["actor"] == ada and accept["fedify"]["object"] == {"type": "Follow", "id": follow}
    _strictly_expanded(accept, "ada's Accept")


def _ada_follows_back(peer: FedifyPeer, node: Node) -> None:
    """The node's Follow reaches Fedify; Fedify's auto-Accept (RFC 9421, its default) is applied."""
    ada = node.actor_uri("ada")
    assert node.cli_json("follow", "ada", peer.handle)["state"] == "pending"
    follow = _delivered(peer, "Follow", peer.actor_id)
    assert follow["fedify"]["actor"] == ada
    _strictly_expanded(follow, "ada's Follow")
    wait_until(
        lambda: _follow_state(node, "following", peer.actor_id) == "accepted",
        what="Fedify's Accept at the node",
    )
    assert (RFC9421, 202) in _posts_to(peer, f"{ada}/inbox"), peer.sent()


def _assert_post_received(
    peer: FedifyPeer, url: str, fedify_type: str, post_kind: str, *, scheme: str
) -> dict[str, Any]:
    """Create of a post: verified, parsed by Fedify as `fedify_type`, postKind readable; its expansion."""
    entry = _delivered(peer, "Create", url)
    assert entry["scheme"] == scheme, _explain([entry])
    assert entry["fedify"]["object"] == {"type": fedify_type, "id": url}, entry["fedify"]
    create = _strictly_expanded(entry, f"the Create of {post_kind} {url}")
    assert _term(create[AS + "object"][0], TF + "postKind") == [post_kind]
    return create


def _peer_answers_the_question(peer: FedifyPeer, node: Node, question: str, ada: str) -> None:
    """A reply signed with RFC 9421 from Fedify is stored as an answer to the question."""
    answer = peer.reply(question, "<p>The analytical one, surely.</p>", to=ada, sign=RFC9421)
    assert _posts_to(peer, f"{ada}/inbox")[-1] == (RFC9421, 202)
    rows = wait_until(
        lambda: query(node, "SELECT kind, in_reply_to_uri FROM objects WHERE uri = :u", u=answer),
        what="the peer's answer in the node's database",
    )
    assert rows == [("answer", question)]


def _ada_closes_the_project_and_deletes_the_article(
    peer: FedifyPeer, node: Node, project: str, article: str
) -> None:
    node.cli_ok("project", "close", "ada", project)
    update = _delivered(peer, "Update", project)
    assert update["scheme"] == RFC9421 and update["fedify"]["object"] == {"type": "Note", "id": project}
    closed = _strictly_expanded(update, "the Update of the project call")[AS + "object"][0]
    assert _term(closed, TF + "projectStatus") == ["closed"]

    node.cli_ok("delete", "ada", article)
    delete = _delivered(peer, "Delete", article)
    assert delete["fedify"]["object"] == {"type": "Tombstone", "id": article}, delete["fedify"]
    _strictly_expanded(delete, "the Delete of the article")
