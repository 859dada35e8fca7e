"""Posts arriving in the inbox: a plain Mastodon reply becomes an answer; likes are votes."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from talentfed.domain import posts
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft
from talentfed.storage.models import Activity, Interaction, Object, PostEdit
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.fixtures_path import fixture


async def _question(node: Node) -> Object:
    async with node.sessions() as session, session.begin():
        bob = await find_local_actor(session, "bob")
        return await posts.publish(session, node.config, bob, Draft(kind="question", title="Q?", body="Why?"))


def _mastodon_reply(felix: RemoteUser, question: Object, bob_uri: str) -> dict:
    """The Mastodon fixture reply, moved onto our test servers: same shape, other ids."""
    text = fixture("objects", "mastodon-create_note.json").read_text()
    text = text.replace("https://mastodon.madrid/users/felix", felix.uri)
    text = text.replace("https://mamot.fr/users/retiolus/statuses/107224244380204526", question.uri)
    text = text.replace("https://mamot.fr/users/retiolus", bob_uri)
    return json.loads(text)


async def test_a_mastodon_reply_becomes_an_answer(node: Node, remote: RemoteServer) -> None:
    felix = remote.add_user("felix")
    question = await _question(node)
    activity = _mastodon_reply(felix, question, node.actor_uri("bob"))
    response = await node.post("/inbox", activity, felix)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        answer = await session.scalar(select(Object).where(Object.uri == activity["object"]["id"]))
        assert answer is not None and answer.kind == "answer" and answer.in_reply_to_uri == question.uri
        assert "thinkpad" in answer.content and answer.language == "en"
        ranked = await posts.answers_to(session, await session.get(Object, question.id))
        assert [a.uri for a, _ in ranked] == [answer.uri]
        edges = {(i.kind, i.target_actor_id) for i in await session.scalars(select(Interaction))}
        bob = await find_local_actor(session, "bob")
        assert ("reply", bob.id) in edges and ("mention", bob.id) in edges


async def test_likes_are_votes_and_counted_once(node: Node, remote: RemoteServer) -> None:
    question = await _question(node)
    for name in ("ann", "ben"):
        liker = remote.add_user(name)
        for attempt in range(2):  # a repeated like (new id) counts once
            like = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "type": "Like",
                "id": remote.activity_id(f"like-{name}-{attempt}"),
                "actor": liker.uri,
                "object": question.uri,
            }
            assert (await node.post("/inbox", like, liker)).status_code == 202
    assert await node.count(Interaction, Interaction.kind == "like") == 2
    undo = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Undo",
        "id": remote.activity_id("undo"),
        "actor": remote.users["ann"].uri,
        "object": remote.activity_id("like-ann-0"),
    }
    assert (await node.post("/inbox", undo, remote.users["ann"])).status_code == 202
    assert await node.count(Interaction, Interaction.kind == "like") == 1


async def test_a_create_by_someone_else_is_refused(node: Node, remote: RemoteServer) -> None:
    felix, mallory = remote.add_user("felix"), remote.add_user("mallory")
    question = await _question(node)
    activity = _mastodon_reply(felix, question, node.actor_uri("bob"))
    activity["actor"] = mallory.uri  # same host, so the origin check passes; attribution does not
    response = await node.post("/inbox", activity, mallory)
    assert response.status_code == 400 and "attributed" in response.text
    assert await node.count(Object, Object.uri == activity["object"]["id"]) == 0


async def test_activities_arriving_together_are_applied_as_one_by_one(
    node: Node, remote: RemoteServer
) -> None:
    """Concurrent POSTs share transactions (group commit); the outcome is the same as if they
    had come one after another: a repeated activity is stored once, a reply still becomes an
    answer with its edges, every other post is stored."""
    felix, ann = remote.add_user("felix"), remote.add_user("ann")
    question = await _question(node)
    reply = _mastodon_reply(felix, question, node.actor_uri("bob"))
    notes = [
        {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": remote.activity_id(f"create-{i}"),
            "type": "Create",
            "actor": ann.uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": {
                "id": f"{remote.base}/notes/{i}",
                "type": "Note",
                "attributedTo": ann.uri,
                "content": f"<p>note {i}</p>",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            },
        }
        for i in range(6)
    ]
    await node.post("/inbox", notes[0], ann)  # ann's key is fetched once, before the burst
    batches_before = node.federation.inbox.writes.batches
    sent = [(reply, felix), *[(note, ann) for note in notes[1:]], *[(notes[1], ann)] * 3]
    responses = await asyncio.gather(*(node.post("/inbox", activity, signer) for activity, signer in sent))

    assert all(r.status_code == 202 for r in responses), [r.text for r in responses]
    reasons = [r.json()["reason"] for r in responses]
    assert reasons.count("post stored") == 6 and reasons.count("duplicate activity; already received") == 3
    assert node.federation.inbox.writes.batches - batches_before < len(sent)
    async with node.sessions() as session:
        stored = {o.uri: o for o in await session.scalars(select(Object).where(Object.local.is_(False)))}
        assert set(stored) == {n["object"]["id"] for n in notes} | {reply["object"]["id"]}
        assert stored[reply["object"]["id"]].kind == "answer"
        edges = {(i.kind, i.object_id) for i in await session.scalars(select(Interaction))}
        assert ("reply", stored[reply["object"]["id"]].id) in edges
        assert await session.scalar(select(func.count()).select_from(Activity)) == 8


async def test_talentfed_terms_defined_only_on_the_activity_reach_its_object(
    node: Node, remote: RemoteServer
) -> None:
    """How talentfed itself sends: one @context on the Create or Update, none on the object."""
    from talentfed.federation.context import PUBLISHED_CONTEXT

    nia = remote.add_user("nia")
    call = {
        "id": remote.activity_id("call"),
        "type": "Note",
        "attributedTo": nia.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "content": "<p>Project call: robots</p>",
        "postKind": "projectCall",
        "skills": ["robotics"],
        "projectStatus": "open",
        "deadline": "2099-01-01T00:00:00Z",
    }
    create = {"@context": PUBLISHED_CONTEXT, "id": remote.activity_id("create"), "type": "Create"}
    create |= {"actor": nia.uri, "object": call}
    assert (await node.post("/inbox", create, nia)).status_code == 202
    moved = nia.document(skills=["robotics", "control"], headline="Roboticist")
    moved.pop("@context")
    update = {"@context": PUBLISHED_CONTEXT, "id": remote.activity_id("update"), "type": "Update"}
    update |= {"actor": nia.uri, "object": moved}
    assert (await node.post("/inbox", update, nia)).status_code == 202
    async with node.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == call["id"]))
        assert stored is not None and (stored.kind, stored.skills, stored.status) == (
            "project",
            ["robotics"],
            "open",
        )
    actor = await node.actor(nia.uri)
    assert actor is not None and (actor.skills, actor.headline) == (["robotics", "control"], "Roboticist")


async def test_a_create_naming_its_object_by_iri_records_its_mentions(
    node: Node, remote: RemoteServer
) -> None:
    """The object is fetched from its origin; its mentions become edges like an embedded one's."""
    ola = remote.add_user("ola")
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": remote.activity_id("note-by-iri"),
        "type": "Note",
        "attributedTo": ola.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public", node.actor_uri("bob")],
        "content": "<p>@bob have a look</p>",
        "tag": [{"type": "Mention", "href": node.actor_uri("bob"), "name": "@bob"}],
    }
    remote.serve(note)
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": remote.activity_id("create-by-iri"),
        "type": "Create",
        "actor": ola.uri,
        "object": note["id"],
    }
    response = await node.post("/inbox", create, ola)
    assert response.status_code == 202, response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == note["id"]))
        bob = await find_local_actor(session, "bob")
        edges = {(i.kind, i.target_actor_id, i.object_id) for i in await session.scalars(select(Interaction))}
    assert stored is not None and ("mention", bob.id, stored.id) in edges


async def test_a_post_is_read_before_the_shared_write_transaction_opens(
    node: Node, remote: RemoteServer, monkeypatch
) -> None:
    """Reading (JSON-LD expansion, sanitising) is the costly part: it must not hold the batch."""
    from talentfed.federation import handlers

    felix = remote.add_user("felix")
    activity = _mastodon_reply(felix, await _question(node), node.actor_uri("bob"))
    events: list[str] = []
    read_post, run = handlers.read_post, node.federation.inbox.writes.run

    def reading(document: dict):
        events.append("read")
        return read_post(document)

    async def transaction(work, **options):
        events.append("transaction")
        return await run(work, **options)

    monkeypatch.setattr(handlers, "read_post", reading)
    monkeypatch.setattr(node.federation.inbox.writes, "run", transaction)
    assert (await node.post("/inbox", activity, felix)).status_code == 202
    assert events == ["read", "transaction"]


async def test_an_update_through_the_inbox_shows_in_the_status_history(
    node: Node, remote: RemoteServer
) -> None:
    """A remote edit: apps read both versions (`/history`) and `edited_at`; a Delete takes the
    earlier texts with the post."""
    nia = remote.add_user("nia")
    note = {
        "id": remote.activity_id("edited-note"),
        "type": "Note",
        "attributedTo": nia.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "content": "<p>Frist!</p>",
        "published": "2026-01-01T10:00:00Z",
    }
    context = "https://www.w3.org/ns/activitystreams"
    for verb, obj in (
        ("Create", note),
        ("Update", {**note, "content": "<p>First!</p>", "updated": "2026-01-01T10:05:00Z"}),
    ):
        activity = {"@context": context, "id": remote.activity_id(verb), "type": verb, "actor": nia.uri}
        response = await node.post("/inbox", {**activity, "object": obj}, nia)
        assert response.status_code == 202, response.text
    async with node.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == note["id"]))
    assert stored is not None

    status = (await node.client.get(f"/api/v1/statuses/{stored.id}")).json()
    assert status["edited_at"] == "2026-01-01T10:05:00.000Z"
    history = (await node.client.get(f"/api/v1/statuses/{stored.id}/history")).json()
    assert [(entry["content"], entry["created_at"]) for entry in history] == [
        ("<p>Frist!</p>", "2026-01-01T10:00:00.000Z"),
        ("<p>First!</p>", "2026-01-01T10:05:00.000Z"),
    ]
    assert history[0]["account"]["uri"] == nia.uri

    delete = {"@context": context, "id": remote.activity_id("delete"), "type": "Delete", "actor": nia.uri}
    assert (await node.post("/inbox", {**delete, "object": note["id"]}, nia)).status_code == 202
    assert await node.count(PostEdit) == 0
    assert await node.count(Object, Object.id == stored.id, Object.edited_at.is_not(None)) == 0


async def test_an_announce_never_widens_a_post(node: Node, remote: RemoteServer) -> None:
    """Someone else's Announce of a followers-only post is ignored, as on Mastodon: it is not
    counted, and no timeline shows it to readers of the booster."""
    booster = remote.add_user("ann")
    async with node.sessions() as session, session.begin():
        bob = await find_local_actor(session, "bob")
        private = await posts.publish(
            session, node.config, bob, Draft(kind="note", body="among us", visibility="followers")
        )
        public = await posts.publish(session, node.config, bob, Draft(kind="note", body="for all"))
    reasons = []
    for post in (private, public):
        announce = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Announce",
            "id": remote.activity_id(f"announce-{post.id}"),
            "actor": booster.uri,
            "object": post.uri,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }
        response = await node.post("/inbox", announce, booster)
        assert response.status_code == 202, response.text
        reasons.append(response.json()["reason"])
    assert reasons == ["announce of a followers post by someone else; ignored", "announce recorded"]
    boosted = select(Interaction.object_id).where(Interaction.kind == "announce")
    async with node.sessions() as session:
        assert list(await session.scalars(boosted)) == [public.id]
