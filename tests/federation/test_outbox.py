"""The transactional outbox: which inboxes get a delivery job, and that jobs commit with the activity."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from talentfed.config import Config
from talentfed.domain.members import NewMember, add_member
from talentfed.federation import activities, outbox
from talentfed.storage.db import session_factory
from talentfed.storage.models import Activity, Actor, DeliveryJob, DomainAllow, DomainBlock, Follow
from tests.support.factories import remote_actor


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
async def bob(config: Config, sessions: async_sessionmaker) -> Actor:
    async with sessions() as session, session.begin():
        return await add_member(session, config, NewMember("bob", "Bob"))


async def add_followers(
    sessions: async_sessionmaker, followed: Actor, actors: list[Actor], state: str = "accepted"
) -> None:
    async with sessions() as session, session.begin():
        session.add_all(actors)
        await session.flush()
        session.add_all(Follow(follower_id=a.id, followed_id=followed.id, state=state) for a in actors)


def note(config: Config, author: Actor) -> dict:
    obj = {"id": f"{config.node.base_url}/objects/{uuid.uuid4().hex}", "type": "Note", "content": "hi"}
    return activities.build(config, "Create", author, obj)


async def send_to_followers(
    sessions: async_sessionmaker, config: Config, author: Actor, *, shared_inbox: bool = True
) -> tuple[dict, list[DeliveryJob]]:
    document = note(config, author)
    async with sessions() as session, session.begin():
        recipients = await outbox.follower_recipients(session, author)
        activity = await outbox.send(session, config, author, document, recipients, shared_inbox=shared_inbox)
        jobs = list(await session.scalars(select(DeliveryJob).where(DeliveryJob.activity_id == activity.id)))
    return document, jobs


async def count(sessions: async_sessionmaker, model: type) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_one_job_per_shared_inbox_and_personal_inboxes_otherwise(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    big = [remote_actor(f"user{n}", "big.example") for n in range(10)]
    small = [remote_actor(name, "small.example", shared=False) for name in ("ann", "ben")]
    await add_followers(sessions, bob, [*big, *small])

    document, jobs = await send_to_followers(sessions, config, bob)
    assert sorted((job.inbox_url, job.host) for job in jobs) == [
        ("https://big.example/inbox", "big.example"),
        ("https://small.example/users/ann/inbox", "small.example"),
        ("https://small.example/users/ben/inbox", "small.example"),
    ]
    assert all((job.state, job.signer_id, job.attempts) == ("queued", bob.id, 0) for job in jobs)
    async with sessions() as session:
        stored = await session.scalar(select(Activity).where(Activity.uri == document["id"]))
    assert stored is not None and stored.local and stored.document == document
    assert stored.object_uri == document["object"]["id"]


async def test_without_shared_inbox_every_actor_gets_its_own_job(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    await add_followers(sessions, bob, [remote_actor(f"user{n}", "big.example") for n in range(10)])
    _, jobs = await send_to_followers(sessions, config, bob, shared_inbox=False)
    assert sorted(job.inbox_url for job in jobs) == sorted(
        f"https://big.example/users/user{n}/inbox" for n in range(10)
    )


async def test_local_and_pending_followers_get_no_job(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    async with sessions() as session, session.begin():
        carol = await add_member(session, config, NewMember("carol", "Carol"))
        session.add(Follow(follower_id=carol.id, followed_id=bob.id, state="accepted"))
    await add_followers(sessions, bob, [remote_actor("p", "pending.example")], state="pending")
    await add_followers(sessions, bob, [remote_actor("o", "ok.example")])

    async with sessions() as session:
        assert [a.uri for a in await outbox.follower_recipients(session, bob)] == [
            "https://ok.example/users/o"
        ]
    # Even when a local actor is passed in explicitly, it is not POSTed to.
    document = note(config, bob)
    async with sessions() as session, session.begin():
        activity = await outbox.send(session, config, bob, document, [carol, bob])
    assert activity.id is not None
    assert await count(sessions, DeliveryJob) == 0


async def test_blocked_domains_get_no_job(
    config: Config, engine: AsyncEngine, sessions: async_sessionmaker, bob: Actor
) -> None:
    followers = [
        remote_actor("m", "moderated.example"),
        remote_actor("s", "social.moderated.example"),  # a subdomain of a blocked domain
        remote_actor("c", "configured.example"),
        remote_actor("f", "fine.example"),
        remote_actor("n", "notmoderated.example"),  # only ends with the same letters
    ]
    await add_followers(sessions, bob, followers)
    async with sessions() as session, session.begin():
        session.add(DomainBlock(domain="moderated.example"))
    blocking = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, blocked_domains=("configured.example",))
    )
    _, jobs = await send_to_followers(sessions, blocking, bob)
    assert sorted(job.host for job in jobs) == ["fine.example", "notmoderated.example"]


async def test_hosts_under_invalid_never_get_a_job(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    """RFC 6761 reserves `.invalid` for names that never resolve (the demo's made-up
    neighbourhood lives there): no job is queued that could only fail and show as failing."""
    followers = [
        remote_actor("amina", "lab.demo.invalid"),
        remote_actor("liwei", "uni.demo.invalid"),
        remote_actor("kim", "invalid.example"),  # only starts with the word
        remote_actor("lee", "fine.example"),
    ]
    await add_followers(sessions, bob, followers)
    _, jobs = await send_to_followers(sessions, config, bob)
    assert sorted(job.host for job in jobs) == ["fine.example", "invalid.example"]


async def test_the_activity_and_its_jobs_commit_together(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    await add_followers(sessions, bob, [remote_actor("a", "a.example"), remote_actor("b", "b.example")])
    document = note(config, bob)
    async with sessions() as session, session.begin():
        await outbox.send(session, config, bob, document, await outbox.follower_recipients(session, bob))
        # Written in the caller's transaction: nothing is visible to anyone else yet.
        assert await count(sessions, DeliveryJob) == 0
        assert await count(sessions, Activity) == 0
    assert await count(sessions, DeliveryJob) == 2
    assert await count(sessions, Activity) == 1


async def test_a_rolled_back_transaction_queues_nothing(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    await add_followers(sessions, bob, [remote_actor("a", "a.example"), remote_actor("b", "b.example")])

    class DomainRuleFailed(Exception):
        pass

    with pytest.raises(DomainRuleFailed):
        async with sessions() as session, session.begin():
            recipients = await outbox.follower_recipients(session, bob)
            await outbox.send(session, config, bob, note(config, bob), recipients)
            assert len(list(await session.scalars(select(DeliveryJob)))) == 2  # flushed, not committed
            raise DomainRuleFailed
    assert await count(sessions, DeliveryJob) == 0
    assert await count(sessions, Activity) == 0


async def test_answer_follow_goes_to_the_followers_own_inbox_with_the_follow_embedded(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    alice = remote_actor("alice", "remote.example")
    follow_id = "https://remote.example/activities/follow-1"
    async with sessions() as session, session.begin():
        session.add(alice)
        await session.flush()
        activity = await outbox.answer_follow(session, config, "Reject", bob, alice, follow_id)
        [job] = await session.scalars(select(DeliveryJob))
    assert job.inbox_url == alice.inbox_url  # not https://remote.example/inbox
    assert activity.document["type"] == "Reject" and activity.document["to"] == [alice.uri]
    assert activity.document["object"] == {
        "id": follow_id,
        "type": "Follow",
        "actor": alice.uri,
        "object": bob.uri,
    }


async def test_allow_list_mode_queues_jobs_only_for_allowed_domains(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    followers = [
        remote_actor("a", "partner.example"),
        remote_actor("b", "eu.partner.example"),
        remote_actor("c", "other.example"),
    ]
    await add_followers(sessions, bob, followers)
    async with sessions() as session, session.begin():
        session.add(DomainAllow(domain="partner.example"))
    allowlist = dataclasses.replace(
        config, federation=dataclasses.replace(config.federation, mode="allowlist")
    )
    _, jobs = await send_to_followers(sessions, allowlist, bob)
    assert sorted(job.host for job in jobs) == ["eu.partner.example", "partner.example"]
