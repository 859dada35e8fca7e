"""What a batch of the group commit looks up once for all its activities (`post_store.note_named`)
and the personal inbox's path, shared with the shared inbox: nothing accepted is lost, counted
twice or notified twice.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.domain.members import NewMember, add_member, find_local_actor
from talentfed.domain.notifications import notifications_for
from talentfed.domain.post_counts import post_counts
from talentfed.domain.posts import Draft, publish
from talentfed.federation import handlers
from talentfed.federation.following import note_follows
from talentfed.federation.inbox import _follow_named
from talentfed.federation.post_store import note_named
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow, Interaction, Object
from tests.federation.local_node import Node
from tests.federation.remote_server import RemoteServer, RemoteUser
from tests.support.factories import PUBLIC, activity_doc, create_doc, note_doc


async def _bobs_post(node: Node) -> Object:
    async with node.sessions() as session, session.begin():
        bob = await find_local_actor(session, "bob")
        assert bob is not None
        return await publish(session, node.config, bob, Draft(kind="note", body="Who knows sparse solvers?"))


def _reply_mentioning_bob(node: Node, author: RemoteUser, parent: str) -> dict:
    """A Mastodon user's reply to one of bob's posts: bob in cc and a Mention tag."""
    bob = node.actor_uri("bob")
    note = note_doc(
        author.uri,
        inReplyTo=parent,
        cc=[bob],
        content=f'<p><a href="{bob}" class="u-url mention">@bob</a> I do.</p>',
        tag=[{"type": "Mention", "href": bob, "name": "@bob"}],
    )
    return create_doc(author.uri, note)


async def _edges(node: Node, kind: str, object_id: int) -> list[int]:
    """The actors of the `kind` edges on a post."""
    async with node.sessions() as session:
        query = select(Interaction.actor_id).where(
            Interaction.kind == kind, Interaction.object_id == object_id
        )
        return sorted(await session.scalars(query))


async def _post_id(node: Node, uri: str) -> int:
    async with node.sessions() as session:
        found = await session.scalar(select(Object.id).where(Object.uri == uri))
    assert found is not None, uri
    return found


async def test_a_mention_in_the_members_own_inbox_is_stored_and_notified_once(
    node: Node, alice: RemoteUser
) -> None:
    parent = await _bobs_post(node)
    reply = _reply_mentioning_bob(node, alice, parent.uri)
    first = await node.to_bob(reply, alice)
    again = await node.post("/inbox", reply, alice)  # the same activity, through the shared inbox

    assert (first.status_code, again.status_code) == (202, 202), (first.text, again.text)
    assert first.json()["reason"] == "post stored"
    assert "duplicate" in again.json()["reason"]
    assert await node.count(Activity, Activity.uri == reply["id"]) == 1
    assert await node.count(Object, Object.uri == reply["object"]["id"]) == 1
    reply_id = await _post_id(node, reply["object"]["id"])
    alice_row = await node.actor(alice.uri)
    assert alice_row is not None
    assert await _edges(node, "mention", reply_id) == [alice_row.id]
    assert await _edges(node, "reply", reply_id) == [alice_row.id]
    async with node.sessions() as session:
        bob = await find_local_actor(session, "bob")
        assert bob is not None
        seen = await notifications_for(session, bob, config=node.config)
    uri = reply["object"]["id"]
    about_it = [n for n in seen if uri in (n.reply_uri, n.post.uri if n.post else None)]
    assert [n.kind for n in about_it] == ["reply"], about_it  # one notification, not one per path


async def test_a_burst_of_likes_boosts_and_replies_is_counted_once_each(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    ann = remote.add_user("ann")
    parent = await _bobs_post(node)
    for user in (alice, ann):  # each key is fetched once, before the burst
        await node.post("/inbox", create_doc(user.uri, note_doc(user.uri)), user)
    reply = _reply_mentioning_bob(node, ann, parent.uri)
    sent = [
        ("/users/bob/inbox", activity_doc(alice.uri, "Like", parent.uri), alice),
        ("/users/bob/inbox", activity_doc(ann.uri, "Like", parent.uri), ann),
        ("/inbox", activity_doc(alice.uri, "Announce", parent.uri, to=[PUBLIC]), alice),
        ("/inbox", reply, ann),
        ("/users/bob/inbox", reply, ann),  # the same activity again: stored once
    ]
    batches_before = node.federation.inbox.writes.batches
    responses = await asyncio.gather(*(node.post(path, doc, user) for path, doc, user in sent))

    assert [r.status_code for r in responses] == [202] * len(sent), [r.text for r in responses]
    reasons = [r.json()["reason"] for r in responses]
    assert reasons[:3] == ["like recorded", "like recorded", "announce recorded"]
    assert sorted(reasons[3:]) == ["duplicate activity; already received", "post stored"]
    assert node.federation.inbox.writes.batches - batches_before < len(sent)
    ids = {user.uri: (await node.actor(user.uri)).id for user in (alice, ann)}  # type: ignore[union-attr]
    assert await _edges(node, "like", parent.id) == sorted(ids.values())
    assert await _edges(node, "announce", parent.id) == [ids[alice.uri]]
    assert await node.count(Object, Object.uri == reply["object"]["id"]) == 1
    reply_id = await _post_id(node, reply["object"]["id"])
    assert await _edges(node, "mention", reply_id) == [ids[ann.uri]]
    assert await _edges(node, "reply", reply_id) == [ids[ann.uri]]


async def test_a_batch_counts_a_like_once_and_again_after_its_undo(node: Node, alice: RemoteUser) -> None:
    parent = await _bobs_post(node)
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)  # alice is stored
    like = activity_doc(alice.uri, "Like", parent.uri)
    second = activity_doc(alice.uri, "Like", parent.uri)
    undo = activity_doc(alice.uri, "Undo", like)
    like_again = activity_doc(alice.uri, "Like", parent.uri)
    async with node.sessions() as session, session.begin():
        sender = await session.scalar(select(Actor).where(Actor.uri == alice.uri))
        assert sender is not None
        await note_named(session, {parent.uri}, set())  # as a batch would, once
        context = handlers.Context(session, node.config, sender, "bob", node.federation.actors)
        reasons = [await handlers.dispatch(context, doc) for doc in (like, second, undo, like_again)]
    assert reasons == ["like recorded", "like already counted", "interaction undone", "like recorded"]
    assert await node.count(Interaction, Interaction.kind == "like") == 1


async def test_a_member_who_joins_after_a_404_is_reachable_at_once(node: Node, alice: RemoteUser) -> None:
    follow = activity_doc(alice.uri, "Follow", node.actor_uri("dora"))
    assert (await node.post("/users/dora/inbox", follow, alice)).status_code == 404
    async with node.sessions() as session, session.begin():
        await add_member(session, node.config, NewMember("dora", "Dora"))
    answer = await node.post("/users/dora/inbox", follow, alice)
    assert answer.status_code == 202, answer.text
    assert answer.json()["reason"] == "follow accepted"


async def _in_parallel_batches(node: Node, sent: list[tuple[str, dict, RemoteUser]]) -> list:
    """POST `sent` at once, each activity in a batch of its own; where batches run side by side
    (PostgreSQL), every batch has looked up what it names before any of them writes, so that a
    check made by reading first would miss the others' rows."""
    writes = node.federation.inbox.writes
    writes.max_batch = 1
    looked = asyncio.Barrier(len(sent)) if writes.parallel >= len(sent) else None
    prepare = writes.prepare
    assert prepare is not None

    async def prepare_then_wait(session, hints) -> None:  # type: ignore[no-untyped-def]
        await prepare(session, hints)
        if looked is not None:
            await asyncio.wait_for(looked.wait(), 10)

    writes.prepare = prepare_then_wait
    try:
        return await asyncio.gather(*(node.post(path, doc, user) for path, doc, user in sent))
    finally:
        writes.prepare = prepare


@pytest.mark.parametrize(("verb", "kind"), [("Like", "like"), ("Announce", "announce")])
async def test_two_likes_of_a_post_with_different_ids_in_parallel_batches_count_once(
    node: Node, alice: RemoteUser, verb: str, kind: str
) -> None:
    """Issue 19: one like sent to the shared inbox and to bob's own (or re-sent with a new id)."""
    parent = await _bobs_post(node)
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)  # alice is stored
    first, second = (activity_doc(alice.uri, verb, parent.uri, to=[PUBLIC]) for _ in range(2))
    batches_before = node.federation.inbox.writes.batches
    responses = await _in_parallel_batches(
        node, [("/inbox", first, alice), ("/users/bob/inbox", second, alice)]
    )

    assert [r.status_code for r in responses] == [202, 202], [r.text for r in responses]
    assert sorted(r.json()["reason"] for r in responses) == [f"{kind} already counted", f"{kind} recorded"]
    assert node.federation.inbox.writes.batches - batches_before == 2  # in batches of their own
    alice_row = await node.actor(alice.uri)
    assert alice_row is not None
    assert await _edges(node, kind, parent.id) == [alice_row.id]
    async with node.sessions() as session:
        counts = await post_counts(session, [parent])
    assert (counts[parent.id].likes, counts[parent.id].boosts) == ((1, 0) if kind == "like" else (0, 1))
    assert await node.count(Activity, Activity.uri.in_([first["id"], second["id"]])) == 2  # both kept


@pytest.mark.parametrize("embedded", [True, False])
async def test_an_undo_of_a_like_dropped_as_a_duplicate_takes_the_like_back(
    node: Node, alice: RemoteUser, embedded: bool
) -> None:
    """As Mastodon, which matches an Undo(Like) by account and post: the sender means its like."""
    parent = await _bobs_post(node)
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)  # alice is stored
    like, resent = (activity_doc(alice.uri, "Like", parent.uri) for _ in range(2))
    for doc, reason in ((like, "like recorded"), (resent, "like already counted")):
        answer = await node.to_bob(doc, alice)
        assert answer.json()["reason"] == reason, answer.text
    # Undone by the id that was not stored, with the Like embedded or named by its id alone.
    undo = activity_doc(alice.uri, "Undo", resent if embedded else resent["id"])
    answer = await node.to_bob(undo, alice)
    assert (answer.status_code, answer.json()["reason"]) == (202, "interaction undone"), answer.text
    assert await node.count(Interaction, Interaction.kind == "like") == 0


async def test_an_undo_of_a_like_of_another_post_takes_nothing_back(node: Node, alice: RemoteUser) -> None:
    parent, other = await _bobs_post(node), await _bobs_post(node)
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)
    assert (await node.to_bob(activity_doc(alice.uri, "Like", parent.uri), alice)).status_code == 202
    never_sent = activity_doc(alice.uri, "Like", other.uri)
    answer = await node.to_bob(activity_doc(alice.uri, "Undo", never_sent), alice)
    assert answer.json()["reason"] == "undo of nothing we know; ignored", answer.text
    assert await node.count(Interaction, Interaction.kind == "like") == 1


def _statements(engine: AsyncEngine) -> list[str]:
    """The SQL the engine runs from now on (until the test ends)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _dispatch_as_one_batch(node: Node, sender_uri: str, docs: list[dict]) -> list[str]:
    """Apply `docs` in one transaction, with the follow lookups a batch makes once (and, as in
    the inbox, nothing that queries and so flushes between them)."""
    async with node.sessions() as session, session.begin():
        sender = await session.scalar(select(Actor).where(Actor.uri == sender_uri))
        assert sender is not None
        followed, undone = set(), set()
        for doc in docs:
            member, follow_id = _follow_named(doc)
            followed |= {member} if member else set()
            undone |= {follow_id} if follow_id else set()
        await note_follows(session, followed, undone, {sender.id})
        policies = await node.federation.policies.current()  # as the inbox: no query, no autoflush
        actors = node.federation.actors
        context = handlers.Context(session, node.config, sender, "bob", actors, None, policies)
        return [await handlers.dispatch(context, doc) for doc in docs]


async def test_a_batch_follows_undoes_and_follows_again_without_a_lookup_each(
    node: Node, alice: RemoteUser, engine: AsyncEngine
) -> None:
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)  # alice is stored
    bob = node.actor_uri("bob")
    follow = activity_doc(alice.uri, "Follow", bob)
    undo = activity_doc(alice.uri, "Undo", {k: v for k, v in follow.items() if k != "@context"})
    again = activity_doc(alice.uri, "Follow", bob)
    undo_by_id = activity_doc(alice.uri, "Undo", again["id"])  # a bare id: matched by the Follow's id
    third = activity_doc(alice.uri, "Follow", bob)
    statements = _statements(engine)

    reasons = await _dispatch_as_one_batch(node, alice.uri, [follow, undo, again, undo_by_id, third])

    accepted, undone = "follow accepted", "follow undone"
    assert reasons == [accepted, undone, accepted, undone, accepted]
    lookups = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "follows" in s]
    assert len(lookups) == 1, lookups  # the batch's, none per Follow or Undo
    assert await node.follow_state(alice.uri, bob) == "accepted"
    assert await node.count(Follow, Follow.uri == third["id"]) == 1
    assert await node.count(Follow) == 1
    assert await node.count(Activity, Activity.type == "Accept", Activity.local.is_(True)) == 3


async def test_a_block_earlier_in_the_batch_refuses_its_follows(node: Node, alice: RemoteUser) -> None:
    await node.post("/inbox", create_doc(alice.uri, note_doc(alice.uri)), alice)
    bob = node.actor_uri("bob")
    follow = activity_doc(alice.uri, "Follow", bob)
    block = activity_doc(alice.uri, "Block", bob)
    again = activity_doc(alice.uri, "Follow", bob)

    reasons = await _dispatch_as_one_batch(node, alice.uri, [follow, block, again])

    assert reasons == ["follow accepted", "block recorded", "follow refused: a block stands"]
    assert await node.follow_state(alice.uri, bob) is None
    assert await node.count(Activity, Activity.type == "Reject", Activity.local.is_(True)) == 2


async def test_a_burst_of_follows_and_undos_is_applied_once_each(
    node: Node, remote: RemoteServer, alice: RemoteUser
) -> None:
    users = [alice, remote.add_user("ann"), remote.add_user("avi")]
    for user in users:  # each key is fetched once, before the burst
        await node.post("/inbox", create_doc(user.uri, note_doc(user.uri)), user)
    bob, carol = node.actor_uri("bob"), node.actor_uri("carol")
    follows = [activity_doc(user.uri, "Follow", target) for user in users for target in (bob, carol)]
    undo = activity_doc(alice.uri, "Undo", {k: v for k, v in follows[0].items() if k != "@context"})
    batches_before = node.federation.inbox.writes.batches

    responses = await asyncio.gather(
        *(node.post("/inbox", doc, users[i // 2]) for i, doc in enumerate(follows)),
        node.post("/inbox", undo, alice),
    )

    assert [r.status_code for r in responses] == [202] * 7, [r.text for r in responses]
    assert node.federation.inbox.writes.batches - batches_before < 7
    reasons = [r.json()["reason"] for r in responses]
    assert reasons[:6] == ["follow accepted", "follow request pending approval"] * 3
    assert reasons[6] in ("follow undone", "undo of nothing we know; ignored")  # its Follow may run later
    for user in users[1:]:
        assert await node.follow_state(user.uri, bob) == "accepted"
        assert await node.follow_state(user.uri, carol) == "pending"
    accepts = await node.count(Activity, Activity.type == "Accept", Activity.local.is_(True))
    assert accepts == 3
    assert await node.count(DeliveryJob) == 3
