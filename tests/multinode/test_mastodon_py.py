"""A real client library against real nodes: Mastodon.py signs ada in on node A with OAuth
(authorization code with PKCE), then posts, answers, follows a member of node B over
federation and reads, favourites and reblogs B's post — all through the Mastodon client API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from mastodon import Mastodon, MastodonNotFoundError

from talentfed.domain.demo import DEMO_PASSWORD
from tests.multinode.nodes import Node, query, running
from tests.support.waiting import wait_until
from tests.web.mastodon.test_oauth import hidden_fields, pkce_pair

pytestmark = pytest.mark.multinode

CALLBACK = "http://127.0.0.1/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


@pytest.fixture
def nodes(tmp_path: Path, fresh_database) -> Iterator[tuple[Node, Node]]:
    """A (SQLite) with the demo institution, B (PostgreSQL) with bob."""
    a = Node("a", tmp_path / "a", fresh_database("sqlite"))
    b = Node("b", tmp_path / "b", fresh_database("postgresql"))
    a.cli_ok("demo")
    b.cli_ok("user", "add", "bob", "--display-name", "Bob")
    with running((a, b)):
        yield a, b


# --- the member's browser: a plain HTTP client that signs in and consents -------------------


def _consent(node: Node, authorize_url: str) -> httpx.Response:
    """Open the authorize URL as ada's browser, sign in, approve; the answer to the approval."""
    with httpx.Client(base_url=node.base_url, timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next="), page.text
        sign_in = browser.get(page.headers["location"])
        back = browser.post(
            "/sign-in",
            data={**hidden_fields(sign_in.text), "username": "ada", "password": DEMO_PASSWORD},
        )
        assert back.status_code == 303, back.text
        consent = browser.get(urljoin(node.base_url, back.headers["location"]))
        assert consent.status_code == 200 and "ada" in consent.text, consent.text
        return browser.post("/oauth/authorize", data={**hidden_fields(consent.text), "decision": "approve"})


def _client(node: Node, **credentials: Any) -> Mastodon:
    return Mastodon(api_base_url=node.base_url, request_timeout=10, **credentials)


def _sign_in_with_pkce(node: Node, client_id: str, client_secret: str) -> str:
    """Mastodon.py builds the authorize URL; it has no PKCE parameters (2.x), so we add the S256
    challenge. Its log_in cannot send a code_verifier either: the code is traded here."""
    app = _client(node, client_id=client_id, client_secret=client_secret)
    url = app.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state="st-1", allow_http=True)
    verifier, challenge = pkce_pair()
    url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    approved = _consent(node, url)
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"].startswith(CALLBACK + "?")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(approved.headers["location"]).query).items()}
    assert answer["state"] == "st-1"

    token = httpx.post(
        f"{node.base_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": CALLBACK,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    assert set(token.json()["scope"].split()) == set(SCOPES)
    return token.json()["access_token"]


def _sign_in_with_log_in(node: Node, client_id: str, client_secret: str) -> Mastodon:
    """Mastodon.py's own flow, without PKCE: the out-of-band page shows the code; log_in trades it."""
    api = _client(node, client_id=client_id, client_secret=client_secret)
    shown = _consent(node, api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True))
    assert shown.status_code == 200, shown.text
    code = re.search(r'<code id="authorization-code">([^<]+)</code>', shown.text)
    assert code, shown.text
    api.log_in(code=unescape(code.group(1)).strip(), redirect_uri=OOB, scopes=SCOPES, allow_http=True)
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

    # A note (sent twice with one Idempotency-Key: one status), edited; then a reply to grace's
    # question, which is stored as an answer.
    note = api.status_post("Hello from Mastodon.py #python", idempotency_key="mastodon-py-1")
    assert note.account.id == me.id and note.visibility == "public"
    assert api.status_post("Hello from Mastodon.py #python", idempotency_key="mastodon-py-1").id == note.id
    assert _kind(a, note.uri) == "note"
    edited = api.status_update(note.id, "Hello again from Mastodon.py #python")
    assert edited.id == note.id and edited.edited_at is not None and "again" in edited.content
    history = api.status_history(note.id)
    assert [("again" in version.content) for version in history] == [False, True]
    assert api.status_source(note.id).text == "Hello again from Mastodon.py #python"
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

    # Favourite and reblog it; both reach node B. As on Mastodon, a reblog is answered with a
    # new status wrapping the original, which can be read back by its id. Bookmark it (that
    # stays on node A).
    assert api.status_favourite(bobs.id).favourited is True
    boost = api.status_reblog(bobs.id)
    assert boost.id != bobs.id and boost.reblog.id == bobs.id and boost.account.id == me.id
    assert api.status(boost.id).reblog.id == bobs.id
    assert api.status_bookmark(bobs.id).bookmarked is True
    assert [s.id for s in api.bookmarks()] == [bobs.id]
    seen = api.status(bobs.id)
    assert seen.favourited is True and seen.reblogged is True and seen.bookmarked is True
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
    assert deleted.text == "Hello again from Mastodon.py #python"
    with pytest.raises(MastodonNotFoundError):
        api.status(note.id)

    public = [s.id for s in api.timeline_public()]
    assert answer.id in public and note.id not in public
