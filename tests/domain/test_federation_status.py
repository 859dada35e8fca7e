"""Delivery status of a member's post: per server, from its activities' delivery jobs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.federation_status import (
    DeliverySummary,
    delivery_status,
    delivery_status_many,
)
from talentfed.domain.members import NewMember, add_member, ensure_institution
from talentfed.domain.posts import Draft
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow, Object
from tests.support import remote_actor

LATER = datetime(2030, 1, 1, tzinfo=UTC)
HOSTS = ("a.example", "b.example", "c.example", "d.example")


@pytest.fixture
async def ada(session: AsyncSession, config: Config) -> Actor:
    """ada has a follower on each of four servers; on d.example, two without a shared inbox."""
    await ensure_institution(session, config)
    ada = await add_member(session, config, NewMember("ada", "Ada"))
    followers = [remote_actor(f"f{i}", host) for i, host in enumerate(HOSTS[:3])]
    followers += [remote_actor(name, "d.example", shared=False) for name in ("d1", "d2")]
    session.add_all(followers)
    await session.flush()
    session.add_all(Follow(follower_id=f.id, followed_id=ada.id, state="accepted") for f in followers)
    await session.flush()
    return ada


async def _jobs(session: AsyncSession, post: Object, host: str) -> list[DeliveryJob]:
    return list(
        await session.scalars(
            select(DeliveryJob)
            .join(Activity, Activity.id == DeliveryJob.activity_id)
            .where(Activity.object_uri == post.uri, DeliveryJob.host == host)
            .order_by(DeliveryJob.id)
        )
    )


async def _set(session: AsyncSession, jobs: list[DeliveryJob], **values: object) -> None:
    await session.execute(
        update(DeliveryJob).where(DeliveryJob.id.in_([j.id for j in jobs])).values(**values)
    )


async def test_a_new_post_is_queued_for_each_server_once(
    session: AsyncSession, config: Config, ada: Actor
) -> None:
    post = await posts.publish(session, config, ada, Draft(kind="article", title="T", body="Text."))
    status = await delivery_status(session, post)
    assert status.post_uri == post.uri
    assert status.summary == DeliverySummary(queued=4)
    assert status.summary.hosts == 4 and status.summary.pending == 4
    assert [row.host for row in status.hosts] == list(HOSTS)
    d = status.hosts[3]
    # d.example has two jobs (two personal inboxes) but is one server.
    assert (d.state, d.jobs, d.attempts, d.activities) == ("queued", 2, 0, ("Create",))
    assert d.last_status is None and d.last_error is None and d.next_attempt_at is not None


async def test_states_per_server(session: AsyncSession, config: Config, ada: Actor) -> None:
    post = await posts.publish(session, config, ada, Draft(kind="article", title="T", body="Text."))
    await posts.edit(session, config, ada, post, Draft(kind="article", title="T2", body="More text."))
    # Every server now has a Create and an Update job (d.example two of each).
    a, b, c, d = [await _jobs(session, post, host) for host in HOSTS]
    assert [len(jobs) for jobs in (a, b, c, d)] == [2, 2, 2, 4]
    await _set(session, a, state="done", attempts=1, last_status=202)
    # b: the Create went through; the Update failed twice and waits for its next try.
    await _set(session, b[:1], state="done", attempts=1, last_status=202)
    await _set(
        session,
        b[1:],
        state="queued",
        attempts=2,
        last_status=503,
        last_error="HTTP 503",
        next_attempt_at=LATER,
    )
    # c: given up on (a 403 ends a job at once).
    await _set(session, c, state="dead", attempts=1, last_status=403, last_error="HTTP 403")
    # d: one job is being tried again right now (running after a failure), the others are done.
    await _set(session, d[:3], state="done", attempts=1, last_status=200)
    await _set(session, d[3:], state="running", attempts=1, last_error="connection refused")

    status = await delivery_status(session, post)
    assert status.summary == DeliverySummary(delivered=1, failing=2, dead=1)
    rows = {row.host: row for row in status.hosts}
    assert [row.host for row in status.hosts] == ["b.example", "d.example", "c.example", "a.example"]
    assert rows["a.example"].state == "delivered" and rows["a.example"].last_status == 202
    assert rows["a.example"].next_attempt_at is None and rows["a.example"].activities == ("Create", "Update")
    b_row = rows["b.example"]
    assert (b_row.state, b_row.attempts, b_row.last_status, b_row.last_error) == (
        "failing",
        2,
        503,
        "HTTP 503",
    )
    assert b_row.next_attempt_at == LATER and b_row.jobs == 2
    assert (rows["c.example"].state, rows["c.example"].last_status) == ("dead", 403)
    d_row = rows["d.example"]
    assert (d_row.state, d_row.jobs, d_row.last_error) == ("failing", 4, "connection refused")

    # Pending wins over dead: a new Update queued for c.example makes it queued again.
    await posts.edit(session, config, ada, post, Draft(kind="article", title="T3", body="Again."))
    status = await delivery_status(session, post)
    assert status.summary == DeliverySummary(queued=2, failing=2)
    assert {row.host: row.state for row in status.hosts} == {
        "a.example": "queued",
        "b.example": "failing",
        "c.example": "queued",
        "d.example": "failing",
    }


async def test_delete_and_the_institutions_announce_count(
    session: AsyncSession, config: Config, ada: Actor
) -> None:
    institution = await session.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == config.node.institution_username)
    )
    e = remote_actor("e", "e.example")
    session.add(e)
    await session.flush()
    session.add(Follow(follower_id=e.id, followed_id=institution.id, state="accepted"))
    await session.flush()
    project = await posts.publish(
        session, config, ada, Draft(kind="project", title="P", body="Join.", status="open")
    )
    status = await delivery_status(session, project)
    assert {row.host: row.activities for row in status.hosts} == {
        **{host: ("Create",) for host in HOSTS},
        "e.example": ("Announce",),  # only the institution's followers get its Announce
    }
    await posts.delete(session, config, ada, project)
    status = await delivery_status(session, project)
    assert status.hosts[0].activities == ("Create", "Delete")
    assert status.summary == DeliverySummary(queued=5)


async def test_other_posts_and_other_members_boosts_do_not_count(
    session: AsyncSession, config: Config, ada: Actor
) -> None:
    grace = await add_member(session, config, NewMember("grace", "Grace"))
    g = remote_actor("g", "g.example")
    session.add(g)
    await session.flush()
    session.add(Follow(follower_id=g.id, followed_id=grace.id, state="accepted"))
    await session.flush()
    post = await posts.publish(session, config, ada, Draft(kind="article", title="T", body="Text."))
    await posts.publish(session, config, ada, Draft(kind="article", title="Other", body="Text."))
    await posts.react(session, config, grace, post, "announce")  # grace's boost goes to g.example
    status = await delivery_status(session, post)
    assert "g.example" not in {row.host for row in status.hosts}
    assert status.summary == DeliverySummary(queued=4)


async def test_many_equals_one_by_one(session: AsyncSession, config: Config, ada: Actor) -> None:
    first = await posts.publish(session, config, ada, Draft(kind="article", title="1", body="One."))
    second = await posts.publish(session, config, ada, Draft(kind="note", body="Two."))
    third = await posts.publish(session, config, ada, Draft(kind="question", title="3?", body="Three."))
    await posts.edit(session, config, ada, first, Draft(kind="article", title="1b", body="One again."))
    quiet = Object(uri="https://elsewhere.example/objects/1", type="Note", kind="note", author_id=ada.id)
    session.add(quiet)  # a post with no delivery job at all
    await session.flush()
    a, b, c, _ = [await _jobs(session, first, host) for host in HOSTS]
    await _set(session, a + c[:1], state="done", attempts=1, last_status=202)
    await _set(session, b, state="dead", attempts=5, last_status=500)
    await _set(session, c[1:], state="queued", attempts=3, last_status=429)
    await _set(
        session, (await _jobs(session, second, "a.example")), state="dead", attempts=1, last_status=410
    )
    await _set(session, (await _jobs(session, second, "d.example"))[:1], state="done", attempts=1)

    all_posts = [first, second, third, quiet]
    one_by_one = {post.id: (await delivery_status(session, post)).summary for post in all_posts}
    many = await delivery_status_many(session, all_posts)
    assert many == one_by_one
    assert many[first.id] == DeliverySummary(delivered=1, queued=1, failing=1, dead=1)
    assert many[second.id] == DeliverySummary(queued=3, dead=1)
    assert many[third.id] == DeliverySummary(queued=4)
    assert many[quiet.id] == DeliverySummary()
    assert await delivery_status_many(session, []) == {}
