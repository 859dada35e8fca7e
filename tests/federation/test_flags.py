"""Flags: reports from other servers about our members reach our moderators' queue; reports
about anyone else are ignored; a second delivery stores nothing more; a blocked server's Flag
is dropped. Mastodon's, GoToSocial's and mbin's real Flags are read."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.federation.flags import read_flag
from talentfed.federation.limits import MAX_REPORT_COMMENT
from talentfed.storage.models import Activity, DomainBlock, Object, Report
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.fixtures_path import fixture
from tests.support.factories import activity_doc


@pytest.mark.parametrize(
    ("name", "reported", "comment"),
    [
        (
            "mastodon-flag.json",
            (
                "https://example.com/users/1",
                "https://example.com/posts/380590",
                "https://example.com/posts/380591",
            ),
            "Please take a look at this user and their posts",
        ),
        (
            "gotosocial-docs-flag.json",
            (
                "http://fossbros-anonymous.io/users/foss_satan",
                "http://fossbros-anonymous.io/users/foss_satan/statuses/01FVW7JHQFSFK166WWKR8CBA6M",
            ),
            "dark souls sucks, please yeet this nerd",
        ),
        (
            "mbin-flag.json",
            ("https://lemmy-test/post/4", "https://lemmy-test/u/BentiGorlich"),
            "dikjhgasdpas dsaü",
        ),
    ],
)
def test_real_flags_are_read(name: str, reported: tuple[str, ...], comment: str) -> None:
    flag = read_flag(json.loads(fixture("objects", name).read_text()))
    assert flag.reported == reported and flag.comment == comment


def test_an_html_comment_is_kept_as_text_and_cut() -> None:
    flag = read_flag(
        {"id": "https://x.example/1", "object": "https://x.example/u", "content": "<p>a <b>b</b></p>"}
    )
    assert flag.comment == "a b"
    long = read_flag({"object": [], "content": "word " * 1000})
    assert len(long.comment) <= MAX_REPORT_COMMENT + 1 and long.comment.endswith("…")


async def _post_by(node: Node, username: str, title: str) -> Object:
    async with node.sessions() as session, session.begin():
        author = await find_local_actor(session, username)
        return await posts.publish(
            session, node.config, author, posts.Draft(kind="article", title=title, body="x")
        )


async def _reports(node: Node) -> list[Report]:
    async with node.sessions() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def test_a_flag_about_our_member_reaches_the_moderators_once(node: Node, alice: RemoteUser) -> None:
    post = await _post_by(node, "bob", "Reported")
    other = await _post_by(node, "carol", "Not bob's")
    flag = activity_doc(
        alice.uri,
        "Flag",
        [node.actor_uri("bob"), post.uri, other.uri, "https://elsewhere.example/posts/1"],
        content="Spam, see the post",
    )
    response = await node.post("/inbox", flag, alice)
    assert response.status_code == 202 and response.json()["reason"] == "report received"
    again = await node.post("/inbox", flag, alice)
    assert again.status_code == 202
    [report] = await _reports(node)
    sender = await node.actor(alice.uri)
    bob = await node.actor(node.actor_uri("bob"))
    assert (report.reporter_id, report.target_id) == (sender.id, bob.id)
    assert report.post_ids == [post.id]  # carol's post is not bob's; the unknown one is not ours
    assert report.comment == "Spam, see the post" and report.uri == flag["id"]
    assert report.resolved_at is None


async def test_a_flag_naming_only_a_post_reports_its_author(node: Node, alice: RemoteUser) -> None:
    post = await _post_by(node, "carol", "Only the post")
    response = await node.post("/inbox", activity_doc(alice.uri, "Flag", [post.uri]), alice)
    assert response.status_code == 202
    [report] = await _reports(node)
    assert report.target_id == post.author_id and report.post_ids == [post.id] and report.comment == ""


async def test_a_flag_about_no_member_of_ours_is_ignored(node: Node, alice: RemoteUser) -> None:
    about_others = activity_doc(alice.uri, "Flag", [alice.uri, "https://elsewhere.example/users/x"])
    response = await node.post("/inbox", about_others, alice)
    assert response.status_code == 202 and "ignored" in response.json()["reason"]
    empty = activity_doc(alice.uri, "Flag", [])
    assert (await node.post("/inbox", empty, alice)).status_code == 202
    assert await _reports(node) == []


async def test_a_flag_from_a_blocked_server_is_dropped(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, private_comment="harassment"))
    flag = activity_doc(alice.uri, "Flag", [node.actor_uri("bob")], content="…")
    response = await node.post("/inbox", flag, alice)
    assert response.status_code == 403
    assert await _reports(node) == [] and await node.count(Activity) == 0


async def test_a_flag_from_a_server_whose_reports_are_rejected_is_dropped(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, severity="noop", reject_reports=True))
    flag = activity_doc(alice.uri, "Flag", [node.actor_uri("bob")], content="again and again")
    response = await node.post("/inbox", flag, alice)
    assert response.status_code == 202 and "rejected" in response.json()["reason"]
    assert await _reports(node) == []
