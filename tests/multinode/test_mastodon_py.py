"""A real client library against real nodes: Mastodon.py signs ada in on node A with OAuth
(authorization code with PKCE), then posts, answers, follows a member of node B over
federation and reads, favourites and reblogs B's post — all through the Mastodon client API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mastodon import Mastodon, MastodonNotFoundError

from tests.multinode.nodes import Node, demo_and_bob, query
from tests.multinode.signin import code_sent_back, code_shown_out_of_band, trade_code, with_pkce
from tests.support.waiting import wait_until

pytestmark = pytest.mark.multinode

CALLBACK = "http://127.0.0.1/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node]]:
    """A (SQLite) with the demo institution, B (PostgreSQL) with bob."""
    with demo_and_bob(tmp_path, fresh_database) as both:
        yield both


def _client(node: Node, **credentials: Any) -> Mastodon:
    return Mastodon(api_base_url=node.base_url, request_timeout=10, **credentials)


def _sign_in_with_pkce(node: Node, client_id: str, client_secret: str) -> str:
    """Mastodon.py builds the authorize URL; it has no PKCE parameters (2.x), so we add the S256
    challenge. Its log_in cannot send a code_verifier either: the code is traded here."""
    app = _client(node, client_id=client_id, client_secret=client_secret)
    url, verifier = with_pkce(
        app.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state="st-1", allow_http=True)
    )
    code = code_sent_back(node, url, CALLBACK, "st-1")
    token = trade_code(
        node,
        code=code,
        redirect_uri=CALLBACK,
        client_id=client_id,
        client_secret=client_secret,
        code_verifier=verifier,
    )
    assert set(token["scope"].split()) == set(SCOPES)
    return token["access_token"]


def _sign_in_with_log_in(node: Node, client_id: str, client_secret: str) -> Mastodon:
    """Mastodon.py's own flow, without PKCE: the out-of-band page shows the code; log_in trades it."""
    api = _client(node, client_id=client_id, client_secret=client_secret)
    code = code_shown_out_of_band(
        node, api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    )
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    return api


def _kind(node: Node, uri: str) -> str | None:
    rows = query(node, "SELECT kind FROM objects WHERE uri = :u", u=uri)
    return rows[0][0] if rows else None


def test_mastodon_py_signs_in_posts_follows_across_nodes_and_interacts(
    nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    a, b = nodes

    # Register the app, as every Mastodon client does first.
    client_id, client_secret = Mastodon.create_app(
        "Mastodon.py test", scopes=SCOPES, redirect_uris=[CALLBACK, OOB], api_base_url=a.base_url
    )
    token = _sign_in_with_pkce(a, client_id, client_secret)
    api = _client(a, access_token=token)

    # The instance, and Mastodon.py's reading of our version string.
    instance = api.instance()
    assert instance.version.startswith("4.3.0 (compatible; talentfed")
    assert api.verify_minimum_version("4.3.0", cached=True)

    me = api.account_verify_credentials()
    assert me.username == "ada" and me.acct == "ada"
    assert me.source.privacy == "public"

    # Mastodon.py's own sign-in (no PKCE) gives a second working token.
    assert _sign_in_with_log_in(a, client_id, client_secret).me().id == me.id

    # A note, then a reply to grace's question, which is stored as an answer.
    note = api.status_post("Hello from Mastodon.py #python")
    assert note.account.id == me.id and note.visibility == "public"
    assert _kind(a, note.uri) == "note"
    question = next(
        s for s in api.timeline_public(local=True) if s.uri == f"{a.base_url}/objects/demo-question"
    )
    answer = api.status_post("Report per-language scores, not only the mean.", in_reply_to_id=question.id)
    assert answer.in_reply_to_id == question.id
    assert _kind(a, answer.uri) == "answer"
    assert answer.id in [s.id for s in api.status_context(question.id).descendants]

    # bob on node B. As on Mastodon, lookup answers only accounts the node knows; apps find others
    # with search (v2, resolve=true), which is not here yet: node A learns of bob through its CLI
    # (WebFinger), then ada follows him through the API.
    with pytest.raises(MastodonNotFoundError):
        api.account_lookup(f"bob@{b.domain}")
    a.cli_ok("lookup", b.handle("bob"))
    bob = api.account_lookup(f"bob@{b.domain}")
    assert bob.acct == f"bob@{b.domain}" and bob.url
    relationship = api.account_follow(bob.id)
    assert relationship.id == bob.id and (relationship.following or relationship.requested)
    wait_until(lambda: api.account_relationships(bob.id)[0].following, what="bob's Accept to reach node A")

    # bob posts on B; the post reaches ada's home timeline on A.
    body = tmp_path / "bob.md"
    body.write_text("Bob's first post from node B.")
    b.cli_ok("post", "note", "bob", "--file", str(body))
    bobs = wait_until(
        lambda: [s for s in api.timeline_home() if s.account.id == bob.id], what="bob's post on A"
    )[0]
    assert "first post from node B" in bobs.content

    # Favourite and reblog it; both reach node B. (Mastodon answers a reblog with a new status
    # wrapping the original; ours answers with the original, marked reblogged.)
    assert api.status_favourite(bobs.id).favourited is True
    boost = api.status_reblog(bobs.id)
    assert (boost.reblog or boost).id == bobs.id
    seen = api.status(bobs.id)
    assert seen.favourited is True and seen.reblogged is True
    assert seen.favourites_count == 1 and seen.reblogs_count == 1
    bobs_uri_on_b = bobs.uri

    def interactions_on_b() -> set[str]:
        rows = query(
            b,
            "SELECT i.kind FROM interactions i JOIN objects o ON o.id = i.object_id WHERE o.uri = :u",
            u=bobs_uri_on_b,
        )
        return {row[0] for row in rows}

    wait_until(lambda: {"like", "announce"} <= interactions_on_b(), what="the like and boost on B")

    # Delete the note: the answer carries its text (delete and redraft), and it is gone.
    deleted = api.status_delete(note.id)
    assert deleted.text == "Hello from Mastodon.py #python"
    with pytest.raises(MastodonNotFoundError):
        api.status(note.id)

    public = [s.id for s in api.timeline_public()]
    assert answer.id in public and note.id not in public
