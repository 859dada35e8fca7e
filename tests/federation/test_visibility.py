"""Followers-only and direct posts reach only their audience (domain/visibility.py), whoever asks.

carol approves followers by hand. fran is her approved follower, pia's request is pending, nora
follows nobody, and nick answers carol's public question with a reply addressed to carol alone.
Every reader is asked as an anonymous client and, with signed GETs, as each of them.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.federation.signatures import sign_request
from talentfed.storage.models import Object
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.support.factories import AS_JSON
from tests.support.signing import signed_headers


async def _get(node: Node, path: str, reader: RemoteUser | None) -> httpx.Response:
    if reader is None:
        return await node.client.get(path, headers={"Accept": AS_JSON})
    url = node.config.node.base_url + path
    return await node.client.get(
        path, headers=signed_headers("GET", url, key_id=reader.key_id, private_pem=reader.private_pem)
    )


@pytest.fixture
async def world(node: Node, remote: RemoteServer) -> dict:
    fran, pia, nora = (remote.add_user(name) for name in ("fran", "pia", "nora"))
    nick = remote.add_user("nick", extra={"discoverable": True, "indexable": True})  # may be pictured
    await node.follow_from(fran, "carol", approve=True)
    await node.follow_from(pia, "carol")
    private = await node.followers_only_post("carol", "Lab budget", "For followers only.")
    async with node.sessions() as session, session.begin():
        carol = await find_local_actor(session, "carol")
        private = await session.merge(private)
        # Pinning refuses followers-only posts now (posts.set_pinned); one pinned before that rule
        # still exists, and the featured collection must not show it to outsiders.
        private.pinned = True
        secret_call = await posts.publish(
            session,
            node.config,
            carol,
            posts.Draft(
                kind="project",
                title="Secret robotics call",
                body="Only for followers.",
                skills=("Robotics",),
                status="open",
                visibility="followers",
            ),
        )
        question = await posts.publish(
            session, node.config, carol, posts.Draft(kind="question", title="Which GPU?", body="Any advice?")
        )
    reply = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": remote.activity_id("reply-create"),
        "type": "Create",
        "actor": nick.uri,
        "to": [node.actor_uri("carol")],
        "object": {
            "id": remote.activity_id("reply"),
            "type": "Note",
            "attributedTo": nick.uri,
            "inReplyTo": question.uri,
            "to": [node.actor_uri("carol")],
            "content": "<p>Between us: our lab has spare A100s.</p>",
            "tag": [{"type": "Mention", "href": node.actor_uri("carol"), "name": "@carol"}],
        },
    }
    assert (await node.post("/inbox", reply, nick)).status_code == 202
    async with node.sessions() as session:
        stored = await posts.find_object(session, reply["object"]["id"])
        assert stored is not None and stored.visibility == "direct"
    return {
        "private": private,
        "secret_call": secret_call,
        "question": question,
        "reply": stored,
        "users": (fran, pia, nora, nick),
    }


def _path(post: Object) -> str:
    return "/" + post.uri.split("://", 1)[1].split("/", 1)[1]


async def test_followers_only_posts_are_in_the_outbox_only_for_approved_followers(
    node: Node, world: dict
) -> None:
    fran, pia, nora, _ = world["users"]
    private = world["private"].uri

    async def outbox_objects(reader: RemoteUser | None) -> list[str]:
        response = await _get(node, "/users/carol/outbox?page=1", reader)
        assert response.status_code == 200
        return [item["object"]["id"] for item in response.json()["orderedItems"]]

    assert world["question"].uri in await outbox_objects(None)
    for outsider in (None, pia, nora):
        assert private not in await outbox_objects(outsider), outsider
    assert private in await outbox_objects(fran)
    forged = signed_headers(
        "GET",
        node.config.node.base_url + "/users/carol/outbox?page=1",
        key_id=fran.key_id,
        private_pem=pia.private_pem,
    )
    response = await node.client.get("/users/carol/outbox?page=1", headers=forged)
    assert response.status_code == 200, "without authorized fetch a bad signature reads as anonymous"
    assert private not in [item["object"]["id"] for item in response.json()["orderedItems"]]
    outline = (await _get(node, "/users/carol/outbox", None)).json()
    assert outline["totalItems"] == 1, "the count does not reveal hidden posts either"


async def test_a_reply_addressed_to_one_member_is_not_shown_to_anyone_else(node: Node, world: dict) -> None:
    fran, pia, nora, nick = world["users"]
    replies_path = _path(world["question"]) + "/replies"
    for outsider in (None, fran, pia, nora):
        response = await _get(node, replies_path, outsider)
        assert response.status_code == 200
        assert world["reply"].uri not in response.json().get("orderedItems", []), outsider
        assert response.json()["totalItems"] == 0
    to_its_author = (await _get(node, replies_path, nick)).json()
    assert to_its_author["orderedItems"] == [world["reply"].uri]
    page = await node.client.get(_path(world["question"]), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Which GPU?" in page.text
    assert "spare A100s" not in page.text


async def test_the_followers_only_post_itself_stays_hidden_from_anonymous_readers(
    node: Node, world: dict
) -> None:
    response = await _get(node, _path(world["private"]), None)
    assert response.status_code == 404


# Every reader that lists or shows posts; {question} and {reply} are filled in per test.
READERS = [
    "/",
    "/@carol",
    "{question}",
    "{question}/replies",
    "/observed?uri={reply}",
    "/users/carol/outbox?page=1",
    "/users/carol/collections/featured",
    "/users/carol/feed.atom",
    "/users/carol/feed.rss",
    "/discover?q=budget",
    "/discover?q=A100s",
    "/api/talentfed/v1/members/carol/posts",
    "/api/talentfed/v1/projects",
    "/api/talentfed/v1/projects?skill=robotics",
    "/projects.atom",
    "/discover?q=robotics",
]
SECRETS = ("Lab budget", "For followers only", "spare A100s", "Secret robotics call")


async def test_no_reader_shows_a_followers_only_or_direct_post_to_outsiders(node: Node, world: dict) -> None:
    _, pia, nora, _ = world["users"]
    hidden = (world["private"].uri, world["reply"].uri, world["secret_call"].uri, *SECRETS)
    paths = [
        path.format(question=_path(world["question"]), reply=quote(world["reply"].uri, safe=""))
        for path in READERS
    ]
    for path in paths:
        for accept in (AS_JSON, "text/html"):
            for outsider in (None, pia, nora):
                headers = {"Accept": accept}
                if outsider is not None:
                    url = node.config.node.base_url + path
                    # signed_headers signs Accept: AS_JSON; this request signs the Accept it sends
                    key = {"key_id": outsider.key_id, "private_key_pem": outsider.private_pem}
                    headers |= sign_request("GET", url, headers, None, **key)
                response = await node.client.get(path, headers=headers)
                assert response.status_code < 500, (path, accept, response.text)
                leaked = [text for text in hidden if text in response.text]
                assert not leaked, f"{path} ({accept}, {outsider and outsider.slug}) shows {leaked}"


async def test_an_approved_follower_reads_the_followers_only_post_with_a_signed_fetch(
    node: Node, world: dict
) -> None:
    fran, pia, nora, _ = world["users"]
    path = _path(world["private"])
    assert (await _get(node, path, fran)).json()["id"] == world["private"].uri
    for outsider in (pia, nora):
        assert (await _get(node, path, outsider)).status_code == 404
    featured = (await _get(node, "/users/carol/collections/featured", fran)).json()
    assert featured["orderedItems"] == [world["private"].uri]


async def test_an_approved_follower_on_a_blocked_domain_reads_nothing(
    node: Node, remote: RemoteServer, world: dict
) -> None:
    from talentfed.storage.models import DomainBlock

    fran = world["users"][0]
    async with node.sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc))
    for path in (_path(world["private"]), "/users/carol/outbox?page=1", "/users/carol/collections/featured"):
        response = await _get(node, path, fran)
        assert response.status_code == 403, (path, response.text)
        assert world["private"].uri not in response.text


async def test_a_direct_reply_draws_no_line_in_the_neighbourhood_picture(node: Node, world: dict) -> None:
    from talentfed.domain.neighbourhood import load_neighbourhood

    nick = world["users"][3]
    async with node.sessions() as session:
        carol = await find_local_actor(session, "carol")
        picture = await load_neighbourhood(session, node.config, carol)
    assert nick.uri not in {n.url for n in picture.neighbours}
    assert all(n.interactions == 0 for n in picture.neighbours), picture.neighbours


async def test_the_analytics_see_no_followers_only_project_call(node: Node, world: dict) -> None:
    """Recommendations and candidates are computed from what anyone may read."""
    from talentfed.domain.observed_graph import load_observed

    async with node.sessions() as session:
        observed = await load_observed(session, node.config)
    assert world["secret_call"].uri not in {project.uri for project in observed.projects}
