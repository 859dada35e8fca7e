"""A real client library against real nodes: Mastodon.py signs ada in on node A with OAuth
(authorization code with PKCE), then posts, answers, reads every kind of post, finds a member
of node B by handle (search with resolve) and follows him over federation, reads, favourites,
reblogs and replies to his post, and reads his follow, like and answer as notifications
(grouped too), with read markers and unread counts — all through the Mastodon client API."""

from __future__ import annotations

import json
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


def _write(tmp_path: Path, name: str, text: str) -> str:
    body = tmp_path / name
    body.write_text(text)
    return str(body)


def _status_of(api: Mastodon, account_id: Any, uri: str) -> Any:
    """The status with that uri among the account's newest, as an app finds it."""
    return next(s for s in api.account_statuses(account_id, limit=40) if s.uri == uri)


def _reads_every_kind(api: Mastodon, a: Node, me: Any) -> None:
    """Articles and project calls (written on the web pages or the CLI) read as statuses with
    their title in the text and a card linking to their page here."""
    article = _status_of(api, me.id, f"{a.base_url}/objects/demo-article")
    assert "Speech recognition for languages with little data" in api.status(article.id).content
    assert article.card and article.card.url == article.url
    project = _status_of(api, me.id, f"{a.base_url}/objects/demo-project")
    assert "Collaborators wanted" in project.content and project.card


def _bob_acts_on_node_b(a: Node, b: Node, tmp_path: Path) -> tuple[str, str]:
    """From node B, bob follows ada, likes her article and answers her question (asked with
    the CLI on A); ada accepts his answer. The question's and the answer's URIs."""
    asked = a.cli_json(
        "post",
        "question",
        "ada",
        "--title",
        "Which corpus first?",
        "--file",
        _write(tmp_path, "q.md", "Ideas?"),
    )
    b.cli_ok("follow", "bob", a.handle("ada"))
    b.cli_ok("like", "bob", f"{a.base_url}/objects/demo-article")
    answer = b.cli_json(
        "answer", "bob", asked["url"], "--file", _write(tmp_path, "a.md", "Start with Swahili.")
    )
    wait_until(lambda: _kind(a, answer["url"]) == "answer", what="bob's answer on node A")
    a.cli_ok("accept", "ada", answer["url"])
    return asked["url"], answer["url"]


def _reads_notifications(api: Mastodon, bob: Any, question_uri: str, answer_uri: str) -> None:
    """bob's follow, like and answer reach ada as Mastodon's notifications, grouped (v2) too;
    the markers say what she has read, and the unread counts follow them."""

    def from_bob() -> set[str]:
        return {n.type for n in api.notifications(account_id=bob.id)}

    wait_until(lambda: {"follow", "favourite", "mention"} <= from_bob(), what="bob's notifications on A")
    mention = api.notifications(account_id=bob.id, types=["mention"])[0]
    assert mention.status.uri == answer_uri and mention.account.acct == bob.acct

    grouped = api.grouped_notifications(limit=10, expand_accounts="full")
    groups = {g.type: g for g in grouped.notification_groups if bob.id in g.sample_account_ids}
    assert {"follow", "favourite", "mention"} <= set(groups)
    assert groups["favourite"].group_key.startswith("favourite-") and groups["favourite"].status_id
    assert bob.id in {account.id for account in grouped.accounts}
    one = api.grouped_notification(groups["follow"].group_key)
    assert one.notification_groups[0].group_key == groups["follow"].group_key
    assert bob.id in [account.id for account in api.grouped_notification_accounts(groups["follow"].group_key)]

    assert api.notifications_unread_count().count >= 3  # nothing read yet
    newest = api.notifications(limit=1)[0]
    saved = api.markers_set("notifications", newest.id)
    assert saved.notifications.last_read_id == str(newest.id)
    assert api.markers_get("notifications").notifications.version == saved.notifications.version
    assert api.notifications_unread_count().count == 0
    assert api.unread_grouped_notifications_count() == 0

    question = api.status(_status_of(api, api.me().id, question_uri).id)
    replies = api.status_context(question.id).descendants
    assert replies and replies[0].uri == answer_uri  # the accepted answer first

    api.dismiss_grouped_notification(groups["favourite"].group_key)
    assert "favourite" not in from_bob()


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
    _reads_every_kind(api, a, me)

    # bob on node B. As on Mastodon, lookup answers only accounts the node knows; apps find
    # others with search (v2, resolve=true), which looks bob up on B (WebFinger); then ada
    # follows him through the API.
    with pytest.raises(MastodonNotFoundError):
        api.account_lookup(f"bob@{b.domain}")
    found = api.search_v2(b.handle("bob"), resolve=True)
    assert [account.acct for account in found.accounts] == [f"bob@{b.domain}"]
    bob = api.account_lookup(f"bob@{b.domain}")
    assert bob.id == found.accounts[0].id and bob.url
    relationship = api.account_follow(bob.id)
    assert relationship.id == bob.id and (relationship.following or relationship.requested)
    wait_until(lambda: api.account_relationships(bob.id)[0].following, what="bob's Accept to reach node A")

    # bob posts on B; the post reaches ada's home timeline on A, where she marks it read.
    b.cli_ok("post", "note", "bob", "--file", _write(tmp_path, "bob.md", "Bob's first post from node B."))
    bobs = wait_until(
        lambda: [s for s in api.timeline_home() if s.account.id == bob.id], what="bob's post on A"
    )[0]
    assert "first post from node B" in bobs.content
    assert api.markers_set("home", bobs).home.last_read_id == str(bobs.id)
    assert api.markers_get(["home", "notifications"]).home.last_read_id == str(bobs.id)

    # Favourite, reblog and reply to it; all reach node B. As on Mastodon, a reblog is answered
    # with a new status wrapping the original, which can be read back by its id. Bookmark it
    # (that stays on node A).
    assert api.status_favourite(bobs.id).favourited is True
    boost = api.status_reblog(bobs.id)
    assert boost.id != bobs.id and boost.reblog.id == bobs.id and boost.account.id == me.id
    assert api.status(boost.id).reblog.id == bobs.id
    assert api.status_bookmark(bobs.id).bookmarked is True
    assert [s.id for s in api.bookmarks()] == [bobs.id]
    seen = api.status(bobs.id)
    assert seen.favourited is True and seen.reblogged is True and seen.bookmarked is True
    assert seen.favourites_count == 1 and seen.reblogs_count == 1
    reply = api.status_post("Welcome, Bob!", in_reply_to_id=bobs.id)
    assert reply.in_reply_to_id == bobs.id and reply.in_reply_to_account_id == bob.id
    bobs_uri_on_b = bobs.uri

    def interactions_on_b() -> set[str]:
        rows = query(
            b,
            "SELECT i.kind FROM interactions i JOIN objects o ON o.id = i.object_id WHERE o.uri = :u",
            u=bobs_uri_on_b,
        )
        return {row[0] for row in rows}

    wait_until(lambda: {"like", "announce"} <= interactions_on_b(), what="the like and boost on B")
    wait_until(lambda: _kind(b, reply.uri) == "note", what="ada's reply on B")

    # bob answers back from B: his follow, like and answer are ada's notifications on A.
    question_uri, answer_uri = _bob_acts_on_node_b(a, b, tmp_path)
    _reads_notifications(api, bob, question_uri, answer_uri)

    # Delete the note: the answer carries its text (delete and redraft), and it is gone.
    deleted = api.status_delete(note.id)
    assert deleted.text == "Hello again from Mastodon.py #python"
    with pytest.raises(MastodonNotFoundError):
        api.status(note.id)

    public = [s.id for s in api.timeline_public()]
    assert answer.id in public and note.id not in public

    # ada reports bob's post to A's moderators and forwards it: B's moderators get a Flag from
    # A's institution (never from ada) naming bob and that post, with the comment.
    rule = api.instance_rules()[0]
    report = api.report(
        bob.id, status_ids=[bobs.id], comment="Testing reports", forward=True, rule_ids=[rule.id]
    )
    assert report.forwarded is True and report.category == "violation" and report.target_account.id == bob.id

    def reports_on_b() -> list[tuple]:
        return query(
            b,
            "SELECT r.comment, a.uri, t.uri, r.post_ids FROM reports r"
            " JOIN actors a ON a.id = r.reporter_id JOIN actors t ON t.id = r.target_id",
        )

    [(comment, reporter, target, post_ids)] = wait_until(reports_on_b, what="the forwarded report on B")
    assert (comment, reporter, target) == (
        "Testing reports",
        f"{a.base_url}/users/institution",
        b.actor_uri("bob"),
    )
    post_ids = json.loads(post_ids) if isinstance(post_ids, str) else post_ids
    assert [row[0] for row in query(b, "SELECT uri FROM objects WHERE id = :i", i=post_ids[0])] == [
        bobs_uri_on_b
    ]
