"""Delivery: retry rules, leases, double-knocking and fairness, against real receivers on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from talentfed.config import Config
from talentfed.federation import activities, delivery, outbox
from talentfed.federation.delivery import (
    DeliveryPolicy,
    DeliveryQueue,
    Outcome,
    backoff,
    classify,
    parse_retry_after,
)
from talentfed.federation.runtime import Federation
from talentfed.federation.signatures import verify_request
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, DeliveryJob, DomainBlock, Instance, utcnow
from tests.federation.remote_server import Received, RemoteServer
from tests.support.factories import actor_row
from tests.support.waiting import eventually

# --- the rules, as functions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, "done"),
        (202, "done"),
        (204, "done"),
        (401, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (400, "failed"),
        (403, "failed"),
        (404, "failed"),
        (410, "failed"),
        (422, "failed"),
    ],
)
def test_classify(status: int, kind: str) -> None:
    outcome = classify(status)
    assert (outcome.kind, outcome.status) == (kind, status)
    assert (outcome.error is None) == (kind == "done")


def test_classify_keeps_retry_after() -> None:
    assert classify(429, 120.0).retry_after == 120.0


def test_backoff_doubles_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = DeliveryPolicy(base_delay=30.0, max_delay=3600.0)
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: 1.0)  # no jitter
    assert [backoff(n, policy) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_backoff_jitter_stays_within_half_either_way() -> None:
    policy = DeliveryPolicy(base_delay=30.0, max_delay=3600.0)
    for attempts in range(1, 10):
        expected = min(30.0 * 2 ** (attempts - 1), 3600.0)
        samples = [backoff(attempts, policy) for _ in range(200)]
        assert all(0.5 * expected <= s <= 1.5 * expected for s in samples)
        assert max(samples) - min(samples) > 0.2 * expected  # retries do not stampede


def test_backoff_honours_retry_after_within_the_cap() -> None:
    policy = DeliveryPolicy(base_delay=30.0, max_delay=3600.0)
    assert backoff(1, policy, retry_after=600.0) >= 600.0
    assert backoff(1, policy, retry_after=10.0**9) == 3600.0  # a hostile Retry-After is capped
    assert backoff(3, policy, retry_after=1.0) >= 60.0  # …and a short one does not shorten ours


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Wed, 21 Oct 2037 07:30:00 GMT", 120.0),
        ("Wed, 21 Oct 2037 07:30:00 -0000", 120.0),  # no zone: GMT, as every HTTP date
        ("Wed, 21 Oct 2037 07:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    now = utcnow().replace(year=2037, month=10, day=21, hour=7, minute=28, second=0, microsecond=0)
    assert parse_retry_after(value, now=now) == seconds


# --- against real receivers ----------------------------------------------------------------


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return session_factory(engine)


@pytest.fixture
async def federation(config: Config, sessions: async_sessionmaker) -> AsyncIterator[Federation]:
    runtime = await Federation.open(config, sessions)
    yield runtime
    await runtime.close()


@pytest.fixture
async def bob(config: Config, sessions: async_sessionmaker) -> Actor:
    from talentfed.domain.members import NewMember, add_member

    async with sessions() as session, session.begin():
        return await add_member(session, config, NewMember("bob", "Bob"))


async def remote_actor(sessions: async_sessionmaker, server: RemoteServer, name: str) -> Actor:
    """A cached remote actor on `server` (no fetch needed: delivery only reads its inbox)."""
    async with sessions() as session, session.begin():
        actor = actor_row(name, server.netloc, scheme="http", fetched_at=utcnow())
        session.add(actor)
    return actor


async def queue_note(sessions: async_sessionmaker, config: Config, signer: Actor, *to: Actor) -> dict:
    note = {"id": f"{config.node.base_url}/objects/{uuid.uuid4().hex}", "type": "Note", "content": "hi"}
    document = activities.build(config, "Create", signer, note)
    async with sessions() as session, session.begin():
        await outbox.send(session, config, signer, document, to)
    return document


async def queue_jobs(sessions: async_sessionmaker, config: Config, signer: Actor, hosts: list[str]) -> None:
    """A job for each of `hosts` (one inbox each), of one activity, straight into the queue."""
    document = activities.build(config, "Create", signer, {"type": "Note"})
    async with sessions() as session, session.begin():
        activity = await outbox.store_local_activity(session, signer, document)
        for n, host in enumerate(hosts):
            session.add(
                DeliveryJob(
                    activity_id=activity.id, signer_id=signer.id, inbox_url=f"https://{host}/{n}", host=host
                )
            )


async def jobs(sessions: async_sessionmaker) -> list[DeliveryJob]:
    async with sessions() as session:
        return list(await session.scalars(select(DeliveryJob).order_by(DeliveryJob.id)))


async def the_job(sessions: async_sessionmaker) -> DeliveryJob:
    [job] = await jobs(sessions)
    return job


async def instance(sessions: async_sessionmaker, host: str) -> Instance | None:
    async with sessions() as session:
        return await session.scalar(select(Instance).where(Instance.host == host))


async def set_jobs(sessions: async_sessionmaker, **values: object) -> None:
    async with sessions() as session, session.begin():
        await session.execute(update(DeliveryJob).values(**values))


async def verified_scheme(received: Received, signer: Actor) -> str:
    async def key_of(key_id: str, refresh: bool = False) -> str:
        assert key_id == signer.public_key_id
        return signer.public_key_pem

    signed = await verify_request(
        "POST",
        received.url,
        received.headers,
        received.body,
        resolve_key=key_of,
        our_hosts={received.headers["host"]},
    )
    return signed.scheme


async def test_a_delivery_is_posted_signed_to_the_shared_inbox(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    document = await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    await federation.new_worker().run_until_idle()
    [received] = remote.received
    assert received.path == "/inbox" and received.json() == document
    assert received.headers["content-type"] == "application/activity+json"
    assert await verified_scheme(received, bob) == "cavage"
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status, job.claimed_by) == ("done", 1, 202, None)
    known = await instance(sessions, remote.netloc)
    assert known is not None and known.last_success_at is not None and known.signature_scheme == "cavage"


async def test_the_first_deliveries_to_a_new_host_both_finish(
    federation: Federation,
    sessions: async_sessionmaker,
    config: Config,
    remote: RemoteServer,
    bob: Actor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two POSTs in flight to a host we have no record of yet: both record it, neither crashes."""
    both_arrived = asyncio.Event()

    async def answer_when_both_arrived(received: Received) -> int:
        if len(remote.received) == 2:
            both_arrived.set()
        await asyncio.wait_for(both_arrived.wait(), 5)
        return 202

    remote.answer = answer_when_both_arrived
    alice = await remote_actor(sessions, remote, "alice")
    await queue_note(sessions, config, bob, alice)
    await queue_note(sessions, config, bob, alice)
    await federation.new_worker().run_until_idle()

    assert len(remote.received) == 2
    assert [(job.state, job.attempts) for job in await jobs(sessions)] == [("done", 1), ("done", 1)]
    assert "crashed" not in caplog.text
    async with sessions() as session:
        [known] = await session.scalars(select(Instance).where(Instance.host == remote.netloc))
    assert known.signature_scheme == "cavage" and known.last_success_at is not None


async def test_a_server_error_is_retried_then_done(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    remote.answer_with(500, 202)
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    await federation.new_worker().run_until_idle()

    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("queued", 1, 500)
    assert job.next_attempt_at > utcnow() + timedelta(seconds=10)  # 30 s ± 50 %
    assert len(remote.received) == 1

    await set_jobs(sessions, next_attempt_at=utcnow() - timedelta(seconds=1))  # time passes
    await federation.new_worker().run_until_idle()
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("done", 2, 202)
    assert len(remote.received) == 2 and remote.received[0].body == remote.received[1].body

    await federation.new_worker().run_until_idle()
    assert len(remote.received) == 2  # done is done


async def test_a_404_ends_the_job_at_once(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    remote.answer_with(404)
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    await federation.new_worker().run_until_idle()
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("dead", 1, 404)
    assert len(remote.received) == 1  # no second scheme for a 404, no retry
    known = await instance(sessions, remote.netloc)
    assert known is None or known.unreachable_since is None  # the server did answer


async def test_a_job_queued_before_its_domain_was_suspended_is_not_posted(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    async with sessions() as session, session.begin():
        session.add(DomainBlock(domain=remote.netloc, severity="suspend"))
    await federation.new_worker().run_until_idle()
    assert remote.received == []
    job = await the_job(sessions)
    assert (job.state, job.attempts) == ("dead", 1)


@pytest.mark.parametrize("form", ["seconds", "date", "date without zone"])
async def test_429_waits_as_long_as_retry_after_says(
    federation: Federation,
    sessions: async_sessionmaker,
    config: Config,
    remote: RemoteServer,
    bob: Actor,
    form: str,
) -> None:
    in_an_hour = utcnow() + timedelta(hours=1)
    retry_after = {
        "seconds": "3600",
        "date": format_datetime(in_an_hour, usegmt=True),
        "date without zone": format_datetime(in_an_hour.replace(tzinfo=None)),  # "… -0000"
    }[form]
    remote.answer_with((429, {"Retry-After": retry_after}))
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    await federation.new_worker().run_until_idle()
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("queued", 1, 429)
    wait = (job.next_attempt_at - utcnow()).total_seconds()
    assert 3500 < wait <= 3600, wait


async def test_giving_up_marks_the_host_unreachable_until_it_answers(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    alice = await remote_actor(sessions, remote, "alice")
    remote.answer_with(503)
    await queue_note(sessions, config, bob, alice)
    await set_jobs(sessions, created_at=utcnow() - timedelta(days=3))  # failing for days already
    await federation.new_worker().run_until_idle()
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("dead", 1, 503)
    known = await instance(sessions, remote.netloc)
    assert known is not None and known.unreachable_since is not None

    remote.answer_with(202)
    await queue_note(sessions, config, bob, alice)
    await federation.new_worker().run_until_idle()
    assert [j.state for j in await jobs(sessions)] == ["dead", "done"]
    known = await instance(sessions, remote.netloc)
    assert known.unreachable_since is None and known.last_success_at is not None


async def test_double_knocking_finds_and_remembers_rfc9421(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    async def rfc9421_only(received: Received) -> int:
        return 202 if "signature-input" in received.headers else 401

    remote.answer = rfc9421_only
    alice = await remote_actor(sessions, remote, "alice")
    await queue_note(sessions, config, bob, alice)
    await federation.new_worker().run_until_idle()

    first, second = remote.received
    assert "signature-input" not in first.headers and await verified_scheme(first, bob) == "cavage"
    assert await verified_scheme(second, bob) == "rfc9421"
    job = await the_job(sessions)
    assert (job.state, job.attempts, job.last_status) == ("done", 1, 202)
    assert (await instance(sessions, remote.netloc)).signature_scheme == "rfc9421"

    # Another worker (nothing in memory) starts with the remembered scheme: one POST.
    await queue_note(sessions, config, bob, alice)
    await federation.new_worker().run_until_idle()
    assert len(remote.received) == 3 and "signature-input" in remote.received[2].headers
    assert [j.state for j in await jobs(sessions)] == ["done", "done"]


async def test_a_job_whose_worker_died_is_reclaimed_when_its_lease_expires(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    [claimed] = await federation.queue.claim("worker-that-dies", 10, set())
    job = await the_job(sessions)
    assert (job.state, job.claimed_by) == ("running", "worker-that-dies")

    await federation.new_worker().run_until_idle()
    assert remote.received == []  # the lease still holds

    await set_jobs(sessions, lease_until=utcnow() - timedelta(seconds=1))
    await federation.new_worker().run_until_idle()
    assert len(remote.received) == 1
    job = await the_job(sessions)
    assert (job.id, job.state, job.attempts, job.claimed_by) == (claimed.id, "done", 1, None)


async def test_a_worker_whose_lease_was_taken_over_cannot_finish_the_job(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    queue = federation.queue
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "alice"))
    [slow] = await queue.claim("slow-worker", 10, set())
    await set_jobs(sessions, lease_until=utcnow() - timedelta(seconds=1))
    [taken] = await queue.claim("new-worker", 10, set())
    assert taken.id == slow.id

    await queue.finish(slow, "slow-worker", Outcome("failed", 404, "HTTP 404"))
    await queue.release([slow.id], "slow-worker", utcnow())
    job = await the_job(sessions)
    assert (job.state, job.claimed_by, job.attempts, job.last_status) == ("running", "new-worker", 0, None)

    await queue.finish(taken, "new-worker", Outcome("done", 202))
    job = await the_job(sessions)
    assert (job.state, job.claimed_by, job.attempts, job.last_status) == ("done", None, 1, 202)


async def test_a_slow_host_does_not_hold_up_a_fast_one(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    slow, fast = remote, None
    release = asyncio.Event()
    in_flight = {"now": 0, "most": 0}

    async def hold(received: Received) -> int:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        try:
            await release.wait()
        finally:
            in_flight["now"] -= 1
        return 202

    slow.answer = hold
    policy = DeliveryPolicy(concurrency=3, per_host_limit=2, idle_poll=0.05)
    runtime = await Federation.open(config, sessions, policy)
    stop = asyncio.Event()
    # Every look the worker takes at the queue, to wait for it to have looked again.
    claims: list[list[delivery.ClaimedJob]] = []
    claim = runtime.queue.claim

    async def counted_claim(*args: object, **kwargs: object) -> list[delivery.ClaimedJob]:
        claims.append(await claim(*args, **kwargs))
        return claims[-1]

    runtime.queue.claim = counted_claim  # type: ignore[method-assign]
    try:
        async with RemoteServer() as fast:
            slow_actor = await remote_actor(sessions, slow, "s")
            for _ in range(6):
                await queue_note(sessions, config, bob, slow_actor)
            await queue_note(sessions, config, bob, await remote_actor(sessions, fast, "f"))

            worker = asyncio.create_task(runtime.new_worker().run(stop))
            # The fast host gets its POST while the slow host holds every POST it was sent…
            await eventually(
                lambda: bool(fast.received) and in_flight["now"] == 2,
                timeout=10,
                what="the fast host's POST and two POSTs held by the slow host",
            )
            assert not release.is_set() and len(fast.received) == 1
            # …and the slow host is sent no more than per_host_limit at a time: the worker looks
            # at the queue again (its four other jobs are due) and leaves them alone.
            looked = len(claims)
            await eventually(lambda: len(claims) >= looked + 3, timeout=10, what="three more claim rounds")
            assert not any(claims[looked:]), "the worker took another of the slow host's jobs"
            assert len(slow.received) == 2 and in_flight["most"] == 2

            release.set()

            async def all_done() -> bool:
                return all(job.state == "done" for job in await jobs(sessions))

            await eventually(all_done, timeout=20, what="every job done")
            assert len(slow.received) == 6 and in_flight["most"] == 2
    finally:
        release.set()
        stop.set()
        if "worker" in locals():
            await worker
        await runtime.close()


async def _stopped_while_a_post_hangs(
    config: Config,
    sessions: async_sessionmaker,
    remote: RemoteServer,
    bob: Actor,
    *,
    drain: float,
    hang: float,
) -> list[DeliveryJob]:
    """A worker asked to stop while one host has answered and another takes `hang` seconds:
    the jobs as the drain left them, in the order slow host, fast host."""
    answered = asyncio.Event()

    async def hanging(received: Received) -> int:
        answered.set()
        await asyncio.sleep(hang)
        return 202

    remote.answer = hanging
    runtime = await Federation.open(config, sessions, DeliveryPolicy(drain=drain, idle_poll=0.05))
    async with RemoteServer() as fast:
        await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "s"))
        await queue_note(sessions, config, bob, await remote_actor(sessions, fast, "f"))
        async with asyncio.timeout(drain + 20), _delivering(runtime):
            await eventually(lambda: answered.is_set() and bool(fast.received), timeout=10)
    return await jobs(sessions)


async def test_a_stopping_worker_releases_a_post_that_outlasts_the_drain(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    slow, fast = await _stopped_while_a_post_hangs(config, sessions, remote, bob, drain=0.3, hang=30)
    assert (fast.state, fast.claimed_by) == ("done", None)
    assert (slow.state, slow.claimed_by, slow.lease_until, slow.attempts) == ("queued", None, None, 0)
    assert slow.next_attempt_at <= utcnow()
    # Released, not left to its lease: another worker takes it at once.
    [taken] = await DeliveryQueue(sessions, DeliveryPolicy()).claim("next-worker", 10, set())
    assert taken.id == slow.id


async def test_a_stopping_worker_lets_a_post_finish_within_the_drain(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    slow, fast = await _stopped_while_a_post_hangs(config, sessions, remote, bob, drain=20, hang=0.5)
    assert [(job.state, job.attempts, job.claimed_by) for job in (slow, fast)] == [("done", 1, None)] * 2


async def test_a_live_worker_renews_its_leases_so_no_one_takes_its_jobs(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    answered = asyncio.Event()
    release = asyncio.Event()

    async def slow(received: Received) -> int:
        answered.set()
        await release.wait()
        return 202

    remote.answer = slow
    policy = DeliveryPolicy(lease=timedelta(seconds=0.6), idle_poll=0.05)
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "s"))
    try:
        async with _delivering(await Federation.open(config, sessions, policy)):
            await eventually(answered.is_set, timeout=10)
            await asyncio.sleep(1.5)  # two and a half leases: renewed, the job is still the worker's
            assert await DeliveryQueue(sessions, policy).claim("other-worker", 10, set()) == []
            release.set()
            await eventually(lambda: _all_done(sessions), timeout=10)
    finally:
        release.set()
    assert len(remote.received) == 1


async def test_a_success_is_recorded_at_once_not_at_the_next_claim(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    # An idle worker claims again only after a minute here: the job is done in the database well
    # before that, while the worker runs (a kill now would not send it again).
    policy = DeliveryPolicy(idle_poll=60)
    await queue_note(sessions, config, bob, await remote_actor(sessions, remote, "r"))
    async with asyncio.timeout(30), _delivering(await Federation.open(config, sessions, policy)):
        await eventually(lambda: _all_done(sessions), timeout=10)
        [job] = await jobs(sessions)
        assert (job.state, job.claimed_by, job.attempts) == ("done", None, 1)
    assert len(remote.received) == 1


async def test_a_burst_to_one_host_goes_on_as_its_posts_end_not_at_the_next_poll(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    # As the Accepts of many Follows from one server: per_host_limit POSTs at a time, and the
    # next as soon as one ends, not when the worker next polls the queue (a minute here).
    policy = DeliveryPolicy(per_host_limit=2, idle_poll=60)
    follower = await remote_actor(sessions, remote, "r")
    for _ in range(6):
        await queue_note(sessions, config, bob, follower)
    async with asyncio.timeout(30), _delivering(await Federation.open(config, sessions, policy)):
        await eventually(lambda: _all_done(sessions), timeout=10, what="every job done")
    assert len(remote.received) == 6


async def test_a_backlog_to_one_host_is_claimed_in_batches_and_posted_two_at_a_time(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    # 40 Accepts to one server: three claims (16, 16, 8), not one per POST; the jobs a claim took
    # beyond per_host_limit wait in the worker and start as the POSTs to that host end.
    in_flight = {"now": 0, "most": 0}

    async def counted(received: Received) -> int:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.005)
        in_flight["now"] -= 1
        return 202

    remote.answer = counted
    policy = DeliveryPolicy(per_host_limit=2, per_host_batch=16, idle_poll=60)
    follower = await remote_actor(sessions, remote, "r")
    for _ in range(40):
        await queue_note(sessions, config, bob, follower)
    runtime = await Federation.open(config, sessions, policy)
    claims: list[int] = []
    claim = runtime.queue.claim

    async def counted_claim(*args: object, **kwargs: object) -> list[delivery.ClaimedJob]:
        claimed = await claim(*args, **kwargs)
        claims.append(len(claimed))
        return claimed

    runtime.queue.claim = counted_claim  # type: ignore[method-assign]
    async with asyncio.timeout(60), _delivering(runtime):
        await eventually(lambda: _all_done(sessions), timeout=30, what="every job done")
    assert len(remote.received) == 40
    assert in_flight["most"] == 2
    assert [n for n in claims if n] == [16, 16, 8]


async def test_a_claim_takes_every_hosts_first_job_before_any_hosts_second(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    await queue_jobs(sessions, config, bob, ["busy.example"] * 5 + ["b.example", "c.example"])
    queue = DeliveryQueue(sessions, DeliveryPolicy(per_host_batch=3))
    first = await queue.claim("w1", 3, set())
    assert sorted(job.host for job in first) == ["b.example", "busy.example", "c.example"]
    rest = await queue.claim("w2", 10, set())
    assert [job.host for job in rest] == ["busy.example"] * 3  # per_host_batch of one host
    assert await queue.claim("w3", 10, {"busy.example"}) == []


async def test_jobs_waiting_for_a_host_that_fails_go_back_to_the_queue_untried(
    federation: Federation, sessions: async_sessionmaker, config: Config, remote: RemoteServer, bob: Actor
) -> None:
    remote.answer_with(503)
    follower = await remote_actor(sessions, remote, "r")
    for _ in range(6):
        await queue_note(sessions, config, bob, follower)
    await federation.new_worker().run_until_idle()
    assert len(remote.received) == 2  # per_host_limit POSTs; then the host is paused
    states = [(job.state, job.claimed_by, job.next_attempt_at > utcnow()) for job in await jobs(sessions)]
    assert states == [("queued", None, True)] * 6
    assert sorted(job.attempts for job in await jobs(sessions)) == [0, 0, 0, 0, 1, 1]


async def test_a_stopping_worker_releases_the_jobs_that_wait_for_their_host(
    config: Config, sessions: async_sessionmaker, remote: RemoteServer, bob: Actor
) -> None:
    answered = asyncio.Event()

    async def hanging(received: Received) -> int:
        answered.set()
        await asyncio.sleep(30)
        return 202

    remote.answer = hanging
    follower = await remote_actor(sessions, remote, "r")
    for _ in range(6):
        await queue_note(sessions, config, bob, follower)
    runtime = await Federation.open(config, sessions, DeliveryPolicy(drain=0.3, idle_poll=0.05))
    async with asyncio.timeout(20), _delivering(runtime):
        await eventually(lambda: answered.is_set() and len(remote.received) == 2, timeout=10)
    assert len(remote.received) == 2
    states = [(job.state, job.claimed_by, job.lease_until, job.attempts) for job in await jobs(sessions)]
    assert states == [("queued", None, None, 0)] * 6  # at once claimable by another worker
    taken = await DeliveryQueue(sessions, DeliveryPolicy()).claim("next-worker", 10, set())
    assert len(taken) == 6


@contextlib.asynccontextmanager
async def _delivering(runtime: Federation) -> AsyncIterator[asyncio.Event]:
    """A worker of `runtime` delivering during the block (its stop event); then stopped, and the
    runtime closed."""
    stop = asyncio.Event()
    worker = asyncio.create_task(runtime.new_worker().run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await worker
        await runtime.close()


async def _all_done(sessions: async_sessionmaker) -> bool:
    return all(job.state == "done" for job in await jobs(sessions))


async def test_concurrent_claims_never_share_a_job(
    config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    await queue_jobs(sessions, config, bob, [f"h{n % 20}.example" for n in range(60)])
    all_ids = {job.id for job in await jobs(sessions)}
    queue = DeliveryQueue(sessions, DeliveryPolicy())

    taken: dict[str, list[int]] = {}
    for _ in range(50):
        workers = [f"worker-{n}" for n in range(8)]
        results = await asyncio.gather(*(queue.claim(worker, 5, set()) for worker in workers))
        if not any(results):
            break
        for worker, claimed in zip(workers, results, strict=True):
            taken.setdefault(worker, []).extend(job.id for job in claimed)
    flat = [job_id for ids in taken.values() for job_id in ids]
    assert len(flat) == len(set(flat)), "a job was claimed twice"
    assert set(flat) == all_ids
    by_job = {job.id: job.claimed_by for job in await jobs(sessions)}
    assert all(by_job[job_id] == worker for worker, ids in taken.items() for job_id in ids)


# --- bookkeeping never waits behind another worker's row locks (PostgreSQL) -------------------


@contextlib.asynccontextmanager
async def _row_locked(engine: AsyncEngine, table: str, row_id: int) -> AsyncIterator[bool]:
    """On PostgreSQL, `table`'s row `row_id` locked by another transaction until the block ends
    (yields True); SQLite has no row locks (one writer at a time), so nothing is held there."""
    if engine.dialect.name != "postgresql":
        yield False
        return
    async with engine.connect() as connection, connection.begin() as transaction:
        await connection.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
        yield True
        await transaction.rollback()


async def test_renewing_leases_skips_a_job_locked_elsewhere_instead_of_waiting(
    engine: AsyncEngine, config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    # A worker's own unfinished records of its jobs, or a claim taking over an expired lease,
    # may hold a job row; a renewal that waited for it let the worker's other leases expire.
    await queue_jobs(sessions, config, bob, ["a.example", "b.example", "c.example"])
    queue = DeliveryQueue(sessions, DeliveryPolicy(lease=timedelta(seconds=30)))
    claimed = await queue.claim("worker-1", 10, set())
    assert len(claimed) == 3
    await set_jobs(sessions, lease_until=utcnow() + timedelta(seconds=5))
    async with _row_locked(engine, "delivery_jobs", claimed[0].id) as held:
        renewed = await asyncio.wait_for(queue.renew("worker-1"), timeout=5)
    assert renewed == (2 if held else 3)
    leases = {job.id: job.lease_until for job in await jobs(sessions)}
    later = utcnow() + timedelta(seconds=20)
    assert [leases[job.id] > later for job in claimed] == [not held, True, True]


async def test_hosts_that_answered_are_marked_without_waiting_for_a_row_locked_elsewhere(
    engine: AsyncEngine, config: Config, sessions: async_sessionmaker, bob: Actor
) -> None:
    # Every worker delivering to a host marks it reachable; when those marks waited for each
    # other inside the jobs' transactions, workers queued for seconds and leases expired.
    async with sessions() as session, session.begin():
        session.add_all([Instance(host="a.example"), Instance(host="b.example", unreachable_since=utcnow())])
    await queue_jobs(sessions, config, bob, ["a.example", "b.example", "new.example"])
    queue = DeliveryQueue(sessions, DeliveryPolicy())
    claimed = await queue.claim("worker-1", 10, set())
    locked = await instance(sessions, "a.example")
    assert locked is not None
    async with _row_locked(engine, "instances", locked.id) as held:
        await asyncio.wait_for(queue.finish_delivered([(job, 202) for job in claimed], "worker-1"), timeout=5)
    recorded = [(job.state, job.attempts, job.claimed_by) for job in await jobs(sessions)]
    assert recorded == [("done", 1, None)] * 3
    for host in ("b.example", "new.example"):
        marked = await instance(sessions, host)
        assert marked is not None and marked.last_success_at is not None and marked.unreachable_since is None
    skipped = await instance(sessions, "a.example")
    assert skipped is not None and (skipped.last_success_at is None) == held

    # A host skipped while locked is marked by its next success.
    await queue_jobs(sessions, config, bob, ["a.example"])
    await queue.finish_delivered([(job, 202) for job in await queue.claim("worker-1", 10, set())], "worker-1")
    again = await instance(sessions, "a.example")
    assert again is not None and again.last_success_at is not None
