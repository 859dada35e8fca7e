"""Process roles under load: one node on PostgreSQL run as `talentfed serve --workers 2` (two web
processes on one port) and three `talentfed worker` processes, one of them killed with SIGKILL
half-way through a fan-out. Nothing accepted is lost and nothing is done twice:

- 2,000 signed activities POSTed to the inbox (and 200 of them again) are stored once each;
- one post to 5,000 followers (5,000 personal inboxes on 50 receiving hosts) reaches every inbox;
  an inbox may see it twice only if its job was claimed by the killed worker, which may have
  POSTed it without living to record it (then its lease expires and another worker sends it
  again: at-least-once, which a receiver makes exactly-once by the activity's id). Every other
  inbox gets it exactly once, at the first attempt;
- the two other workers stop on SIGTERM, draining: exit 0, nothing left running;
- the client API's rate limit counts one client once across both web processes.

The numbers can be scaled down with TALENTFED_ROLES_SCALE (e.g. 0.2 for a quick look); the
default is the issue's.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from talentfed.federation.connection_pool import pooled_transport
from talentfed.federation.signatures import generate_rsa_keypair
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.models import Actor, Follow, utcnow
from tests.multinode.inbox_counter import CountingReceivers
from tests.multinode.nodes import Node, query
from tests.support.factories import actor_row, create_doc, note_doc
from tests.support.signing import signed_post

pytestmark = pytest.mark.multinode

SCALE = float(os.environ.get("TALENTFED_ROLES_SCALE", "1"))
ACTIVITIES = int(2000 * SCALE)
FOLLOWERS = int(5000 * SCALE)
HOSTS = 50
SENDERS = 8
API_LIMIT = 6  # client API requests per address
LEASE = 20.0  # seconds: how soon the killed worker's jobs go to the others (a live one renews)


@pytest.fixture
def counting() -> Iterator[CountingReceivers]:
    """HOSTS counting receivers in a process of their own."""
    receivers = CountingReceivers(HOSTS)
    try:
        yield receivers
    finally:
        receivers.close()


class Worker:
    def __init__(self, node: Node, number: int) -> None:
        self.log_path = node.directory / f"worker-{number}.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "talentfed", "worker", "--queues", "delivery", "--concurrency", "1"],
                cwd=node.directory,
                stderr=log,
                env={**os.environ, "TALENTFED_LOG_LEVEL": "INFO"},
            )

    def log(self) -> str:
        return self.log_path.read_text()

    def worker_ids(self) -> list[str]:
        """The ids its delivery loops claim jobs under, once they have started."""
        return re.findall(r"delivery worker (worker-[0-9a-f]+) started", self.log())


def wait_for(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


async def _seed(db_url: str, ports: list[int], senders: list[tuple[str, str]]) -> list[Actor]:
    """FOLLOWERS remote followers of ada (personal inboxes only, spread over the receivers) and
    the SENDERS remote actors whose keys the inbox knows; the senders, as rows."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            ada = (
                await session.execute(select(Actor).where(Actor.local.is_(True), Actor.username == "ada"))
            ).scalar_one()
            followers = [
                actor_row(
                    f"f{n}", f"127.0.0.1:{ports[n % HOSTS]}", scheme="http", shared=False, fetched_at=utcnow()
                )
                for n in range(FOLLOWERS)
            ]
            signers = [
                actor_row(
                    f"s{n}",
                    f"127.0.0.1:{ports[n % HOSTS]}",
                    scheme="http",
                    fetched_at=utcnow(),
                    public_key_pem=public,
                    public_key_id=f"http://127.0.0.1:{ports[n % HOSTS]}/users/s{n}#main-key",
                )
                for n, (_, public) in enumerate(senders)
            ]
            session.add_all(followers + signers)
            await session.flush()
            session.add_all(
                Follow(follower_id=follower.id, followed_id=ada.id, state="accepted", accepted_at=utcnow())
                for follower in followers
            )
            return signers
    finally:
        await engine.dispose()


async def _post_to_inbox(
    base_url: str, signers: list[Actor], senders: list[tuple[str, str]], count: int
) -> tuple[list[str], Counter[int]]:
    """`count` signed Creates POSTed to the shared inbox, 32 at a time, then the first tenth
    again; (their ids, answers by status)."""
    documents = []
    for n in range(count):
        signer = signers[n % len(signers)]
        note = note_doc(signer.uri, content=f"<p>note {n}</p>")
        documents.append((signer, senders[n % len(senders)][0], create_doc(signer.uri, note)))
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(32)
    inbox = f"{base_url}/inbox"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    async with httpx.AsyncClient(transport=pooled_transport(limits=limits), timeout=60) as client:

        async def send(signer: Actor, private: str, activity: dict) -> None:
            body, headers = signed_post(inbox, activity, key_id=signer.public_key_id, private_pem=private)
            async with gate:
                response = await client.post(inbox, content=body, headers=headers)
            statuses[response.status_code] += 1

        await asyncio.gather(*(send(*document) for document in documents))
        await asyncio.gather(*(send(*document) for document in documents[: count // 10]))
    return [activity["id"] for _, _, activity in documents], statuses


def web_processes(parent: int) -> list[int]:
    """The pids of the processes `parent` started (uvicorn's web processes)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children


def test_two_web_processes_and_three_workers_lose_nothing_and_repeat_only_what_a_killed_worker_held(
    tmp_path: Path, fresh_database, counting: CountingReceivers
) -> None:
    started = time.monotonic()
    receivers = counting.ports
    node = Node("roles", tmp_path / "node", fresh_database("postgresql"))
    config = node.directory / "config.toml"
    config.write_text(
        config.read_text()
        .replace("workers = 1", "workers = 2")
        .replace("enabled = false", "enabled = true")  # [rate_limits]
        .replace("api_per_address = 300", f"api_per_address = {API_LIMIT}")
        .replace('session_secret = ""', f'session_secret = "{"s" * 48}"')
        .replace("delivery_lease_seconds = 300.0", f"delivery_lease_seconds = {LEASE}")
    )
    node.cli_ok("user", "add", "ada", "--display-name", "Ada")
    senders = [generate_rsa_keypair() for _ in range(SENDERS)]
    signers = asyncio.run(_seed(node.db_url, receivers, senders))

    workers: list[Worker] = []
    try:
        node.start(timeout=90)  # two processes importing everything at once, on 2 busy cores
        assert len(web_processes(node.process.pid)) >= 2  # uvicorn's supervisor and its 2 web processes
        # One count per client, whichever web process answers (in the database, by default).
        answers = [httpx.get(f"{node.base_url}/api/v1/instance", timeout=30) for _ in range(API_LIMIT + 1)]
        remaining = [answer.headers.get("x-ratelimit-remaining") for answer in answers]
        assert remaining == [str(n) for n in range(API_LIMIT - 1, -1, -1)] + ["0"]
        assert answers[-1].status_code == 429
        workers = [Worker(node, n) for n in range(3)]
        wait_for(lambda: all(worker.worker_ids() for worker in workers), "the workers to start", 60)

        post = subprocess.Popen(
            [sys.executable, "-m", "talentfed", "post", "note", "ada", "--file", "-"],
            cwd=node.directory,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        post.stdin.write("To all of you, once.")
        post.stdin.close()
        sent, statuses = asyncio.run(_post_to_inbox(node.base_url, signers, senders, ACTIVITIES))
        assert post.wait(timeout=60) == 0, post.stderr.read()

        # Half-way through the fan-out, one worker dies without a word.
        wait_for(lambda: counting.total() >= FOLLOWERS // 3, "a third of the deliveries", 120)
        victim = workers[0]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        delivered_at_kill = counting.total()
        assert delivered_at_kill < FOLLOWERS, "the fan-out ended before the worker was killed"
        held = _held_by(node, victim.worker_ids())

        def all_done() -> bool:
            [(left,)] = query(node, "SELECT count(*) FROM delivery_jobs WHERE state <> 'done'")
            return left == 0

        wait_for(all_done, "every delivery job to be done", 120)
        for worker in workers[1:]:
            worker.process.send_signal(signal.SIGTERM)
        for worker in workers[1:]:
            assert worker.process.wait(timeout=60) == 0, worker.log()
            assert "Traceback" not in worker.log()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
        node.stop()

    # Every activity POSTed to the inbox is stored once; the repeats were answered as duplicates.
    assert statuses == Counter({202: ACTIVITIES + ACTIVITIES // 10}), statuses
    stored = query(node, "SELECT uri FROM activities WHERE local = false")
    assert Counter(uri for (uri,) in stored) == Counter(sent)

    # Every follower's inbox got the post; twice only where the killed worker held the job. No
    # attempt failed: two causes of repeats once seen here are gone. Leases expired under live
    # workers whose renewals queued behind other workers' row locks (federation/delivery.py),
    # and httpcore's pool closed connections under requests already sent, so POSTs the
    # receiver had were retried (federation/connection_pool.py).
    [(create_id,)] = query(node, "SELECT uri FROM activities WHERE local = true AND type = 'Create'")
    received = counting.counts()
    by_inbox = {inbox: n for (inbox, activity), n in received.items() if activity == create_id}
    assert set(received) == {(inbox, create_id) for inbox in by_inbox}, "something else was delivered"
    expected = {f"http://127.0.0.1:{receivers[n % HOSTS]}/users/f{n}/inbox" for n in range(FOLLOWERS)}
    assert {f"http://{inbox}" for inbox in by_inbox} == expected
    repeated = {f"http://{inbox}" for inbox, n in by_inbox.items() if n > 1}
    unexplained = repeated - held
    assert not unexplained, f"twice, though not held by the dead worker: {sorted(unexplained)[:5]}"
    assert max(by_inbox.values()) <= 2
    [(done, attempts)] = query(node, "SELECT count(*), sum(attempts) FROM delivery_jobs WHERE state = 'done'")
    assert (done, attempts) == (FOLLOWERS, FOLLOWERS), "every job done, each at its first attempt"
    print(
        f"\n{ACTIVITIES} activities stored once, {FOLLOWERS} inboxes reached; killed worker held "
        f"{len(held)} jobs after {delivered_at_kill} deliveries, {len(repeated)} inboxes saw the post "
        f"twice; {attempts} attempts; {time.monotonic() - started:.0f} s"
    )


def _held_by(node: Node, worker_ids: list[str]) -> set[str]:
    """The inboxes of the jobs `worker_ids` had claimed and not recorded when the worker died."""
    held: set[str] = set()
    for worker_id in worker_ids:
        rows = query(
            node,
            "SELECT inbox_url FROM delivery_jobs WHERE state = 'running' AND claimed_by = :id",
            id=worker_id,
        )
        held.update(inbox for (inbox,) in rows)
    return held
