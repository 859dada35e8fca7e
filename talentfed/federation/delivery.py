"""Delivery: workers that POST queued activities to remote inboxes, durably and fairly.

- Jobs are claimed with a lease, which the worker renews while it lives (every third of the
  lease), so a slow worker keeps its jobs. A worker that dies leaves its jobs to be reclaimed
  when the lease expires; a worker whose lease was taken over cannot finish the job.
- Claims are fair: at most `per_host_limit` POSTs to one host at a time, and a host that
  just failed is paused (a circuit breaker) so a dead server never holds up live ones. A claim
  takes the first due job of every host before the second of any, and up to `per_host_batch`
  of one host's backlog (such as the Accepts of a burst of Follows): those beyond
  `per_host_limit` wait in the worker and start as its POSTs to that host end, so a backlog
  costs one claim per batch rather than one per POST.
- Retries back off exponentially with jitter on network errors, 5xx, 401, 408 and 429
  (honouring Retry-After) for `give_up_after` (two days by default); other 4xx end a job.
- Double-knocking: a 400/401 is retried once with the other signature scheme, and the
  scheme that worked is remembered per host.
- No database transaction is held open during a POST.
- Stopping (SIGTERM) drains: no more claims, the POSTs in flight get `drain` seconds to finish,
  and the jobs still unfinished then are released (queued again, lease cleared), so another
  worker takes them at once instead of when the lease expires. A POST cut off this way may
  have reached its inbox: the receiver sees it twice, and drops it by its activity id.
- Each attempt runs, and is logged, under the id of the request that queued its job
  (`observability/logs.py`), and is counted by outcome (`observability/metrics.py`).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.federation.blocks import CachedPolicies
from talentfed.federation.context import published
from talentfed.federation.fetcher import Fetcher, FetchError
from talentfed.federation.signatures import sign_request
from talentfed.observability import metrics
from talentfed.observability.logs import request_scope
from talentfed.storage.db import first_line, is_unavailable, rowcount, write_lock
from talentfed.storage.dialects import among, insert_or_ignore
from talentfed.storage.models import Activity, Actor, DeliveryJob, Instance, utcnow

logger = logging.getLogger("talentfed.delivery")

SCHEMES = ("cavage", "rfc9421")
FLUSH_BATCH = 64  # successful deliveries recorded in one transaction, at the most
# Seconds a success waits for others to share its transaction. Short: a worker killed before it
# records a success sends that POST again once the lease expires (docs/reliability.md).
FLUSH_DELAY = 0.05
REACHABLE_TTL = 60.0  # seconds a host this process saw answer is not marked reachable again


@dataclass(frozen=True)
class DeliveryPolicy:
    # POSTs in flight per worker: enough that hosts that never answer (each holding a slot until
    # its timeout) leave most slots to the live ones. Two workers stay within the fetcher's pool.
    concurrency: int = 160
    per_host_limit: int = 2  # POSTs in flight per host per worker
    per_host_batch: int = 16  # jobs of one host a claim may take (the rest of them wait their turn)
    lease: timedelta = timedelta(minutes=5)
    base_delay: float = 30.0  # seconds before the first retry
    max_delay: float = 6 * 3600.0
    give_up_after: timedelta = timedelta(days=2, hours=1)
    idle_poll: float = 0.5  # seconds between looks at an empty queue
    drain: float = 30.0  # seconds the POSTs in flight may take to finish once asked to stop


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    inbox_url: str
    host: str
    attempts: int
    created_at: datetime
    body: bytes
    key_id: str
    private_key_pem: str
    activity_uri: str = ""
    request_id: str | None = None  # of the request that queued the job, for the logs


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: done, retry (with a delay) or failed for good."""

    kind: str  # done | retry | failed
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


def classify(status: int, retry_after: float | None = None) -> Outcome:
    """Like Mastodon: 401 is worth retrying (the receiver may have failed to fetch our key)."""
    if 200 <= status < 300:
        return Outcome("done", status)
    if status in (401, 408, 429) or status >= 500:
        return Outcome("retry", status, f"HTTP {status}", retry_after)
    return Outcome("failed", status, f"HTTP {status}")


def backoff(attempts: int, policy: DeliveryPolicy, retry_after: float | None = None) -> float:
    """Seconds until the next try: exponential, with ±50 % jitter so retries do not stampede."""
    growth: int = 2 ** max(attempts - 1, 0)
    delay = min(policy.base_delay * growth, policy.max_delay)
    delay *= random.uniform(0.5, 1.5)
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_delay))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        # A date with "-0000" or no zone parses naive; HTTP dates are GMT. Without this the
        # subtraction raised, the worker crashed on the job and it was never retried nor given up.
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or utcnow())).total_seconds())


# --- the queue, in the database -----------------------------------------------------


class DeliveryQueue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: DeliveryPolicy) -> None:
        self.sessions = sessions
        self.policy = policy
        # Hosts this process marked reachable, and when: no write per POST to a host known to
        # answer. Only a cache: another process may mark the host unreachable meanwhile, so
        # after REACHABLE_TTL a success is written again (and clears that mark).
        self._reachable: dict[str, float] = {}

    def _known_reachable(self, host: str) -> bool:
        marked = self._reachable.get(host)
        return marked is not None and time.monotonic() - marked < REACHABLE_TTL

    async def claim(self, worker_id: str, limit: int, skip_hosts: set[str]) -> list[ClaimedJob]:
        """Lease up to `limit` due jobs, at most per_host_batch per host, none of `skip_hosts`;
        every host's first due job comes before any host's second."""
        now = utcnow()
        due = or_(
            and_(DeliveryJob.state == "queued", DeliveryJob.next_attempt_at <= now),
            and_(DeliveryJob.state == "running", DeliveryJob.lease_until < now),
        )
        rank = (
            func.row_number()
            .over(partition_by=DeliveryJob.host, order_by=(DeliveryJob.next_attempt_at, DeliveryJob.id))
            .label("rank")
        )
        ranking = select(DeliveryJob.id, rank).where(due)
        if skip_hosts:
            ranking = ranking.where(DeliveryJob.host.not_in(skip_hosts))
        ranked = ranking.subquery()
        candidates = (
            select(ranked.c.id)
            .where(ranked.c.rank <= self.policy.per_host_batch)
            .order_by(ranked.c.rank, ranked.c.id)
            .limit(limit)
        )
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            # Lock the rows we will take; rows another worker is taking are skipped (PostgreSQL).
            # SQLite has one writer at a time, and the re-check of `due` below does the rest.
            locked = (
                select(DeliveryJob.id)
                .where(DeliveryJob.id.in_(candidates), due)
                .with_for_update(skip_locked=True)
            )
            ids = list(await session.scalars(locked))
            if not ids:
                return []
            await session.execute(
                update(DeliveryJob)
                .where(among(session, DeliveryJob.id, ids), due)
                .values(state="running", lease_until=now + self.policy.lease, claimed_by=worker_id)
                .execution_options(synchronize_session=False)
            )
            rows = await session.execute(
                select(
                    DeliveryJob, Activity.uri, Activity.document, Actor.public_key_id, Actor.private_key_pem
                )
                .join(Activity, Activity.id == DeliveryJob.activity_id)
                .join(Actor, Actor.id == DeliveryJob.signer_id)
                .where(among(session, DeliveryJob.id, ids), DeliveryJob.claimed_by == worker_id)
            )
            return [
                ClaimedJob(
                    id=job.id,
                    inbox_url=job.inbox_url,
                    host=job.host,
                    attempts=job.attempts,
                    created_at=job.created_at,
                    body=json.dumps(published(document), ensure_ascii=False, separators=(",", ":")).encode(),
                    key_id=key_id,
                    private_key_pem=private_key_pem,
                    activity_uri=activity_uri,
                    request_id=job.request_id,
                )
                for job, activity_uri, document, key_id, private_key_pem in rows
            ]

    async def finish(self, job: ClaimedJob, worker_id: str, outcome: Outcome, *, delay: float = 0.0) -> None:
        """Record an attempt's outcome, if the job is still ours."""
        now = utcnow()
        attempts = job.attempts + 1
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_status": outcome.status,
            "last_error": outcome.error,
            "lease_until": None,
            "claimed_by": None,
        }
        gave_up = False
        if outcome.kind == "done":
            values["state"] = "done"
        elif (
            outcome.kind == "retry"
            and now + timedelta(seconds=delay) < job.created_at + self.policy.give_up_after
        ):
            values.update(state="queued", next_attempt_at=now + timedelta(seconds=delay))
        else:
            values["state"] = "dead"
            gave_up = outcome.kind == "retry"
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            result = await session.execute(
                update(DeliveryJob)
                .where(DeliveryJob.id == job.id, DeliveryJob.claimed_by == worker_id)
                .values(**values)
            )
            if not rowcount(result):
                return  # our lease was taken over: the job, and what it says of the host, is not ours
        if outcome.kind == "done":
            await self._mark_reachable({job.host})
        elif gave_up:
            await self._mark_unreachable(job.host)

    async def finish_delivered(self, done: list[tuple[ClaimedJob, int | None]], worker_id: str) -> None:
        """Record many successful deliveries in one transaction (the common case, batched)."""
        if not done:
            return
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            for status in {status for _, status in done}:
                ids = [job.id for job, job_status in done if job_status == status]
                await session.execute(
                    update(DeliveryJob)
                    .where(among(session, DeliveryJob.id, ids), DeliveryJob.claimed_by == worker_id)
                    .values(
                        state="done",
                        attempts=DeliveryJob.attempts + 1,
                        last_status=status,
                        last_error=None,
                        lease_until=None,
                        claimed_by=None,
                    )
                )
        await self._mark_reachable({job.host for job, _ in done})

    async def _mark_reachable(self, hosts: set[str]) -> None:
        """Note that `hosts` answered, in a transaction of its own that waits for no row lock.

        Every worker delivering to a host marks it, and a wait here once queued the workers
        behind one another for seconds: when the marks shared the jobs' transaction, the job
        rows stayed locked meanwhile, so the lease renewals waited too, leases expired and
        live workers' jobs were POSTed again. A host row another transaction is writing is
        skipped (that writer saw the host too, or marks it unreachable, which our next success
        after REACHABLE_TTL undoes)."""
        hosts = {host for host in hosts if not self._known_reachable(host)}
        if not hosts:
            return
        try:
            async with write_lock(self.sessions), self.sessions() as session, session.begin():
                listed = among(session, Instance.host, hosts)
                known = set(await session.scalars(select(Instance.host).where(listed)))
                # In order: two transactions inserting the same hosts wait, never deadlock.
                for host in sorted(hosts - known):
                    await session.execute(insert_or_ignore(session, Instance, ["host"], host=host))
                free = select(Instance.id).where(listed).with_for_update(skip_locked=True)
                marked = list(
                    await session.scalars(
                        update(Instance)
                        .where(Instance.id.in_(free.scalar_subquery()))
                        .values(last_success_at=utcnow(), unreachable_since=None)
                        .returning(Instance.host)
                        .execution_options(synchronize_session=False)
                    )
                )
        except Exception:  # the jobs are recorded already; the next success marks the hosts
            logger.exception("noting that %d hosts answered failed", len(hosts))
            return
        now = time.monotonic()
        self._reachable.update((host, now) for host in marked)

    async def _mark_unreachable(self, host: str) -> None:
        """A job to `host` has been given up on: mark the host unreachable, once."""
        self._reachable.pop(host, None)
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            instance = await _instance(session, host)
            if instance.unreachable_since is None:
                instance.unreachable_since = utcnow()
                metrics.count_host_marked_unreachable()
                logger.warning("giving up on %s: marked unreachable", host)

    async def release(self, job_ids: list[int], worker_id: str, not_before: datetime) -> None:
        """Put claimed jobs back untried (their host's circuit is open, or the worker stops)."""
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            await session.execute(
                update(DeliveryJob)
                .where(among(session, DeliveryJob.id, job_ids), DeliveryJob.claimed_by == worker_id)
                .values(state="queued", next_attempt_at=not_before, lease_until=None, claimed_by=None)
            )

    async def renew(self, worker_id: str) -> int:
        """Extend the lease of every job `worker_id` holds; how many it holds."""
        # Rows locked elsewhere are skipped, not waited for: they are being finished by this
        # worker, or taken over by another one after our lease expired. A renewal that waited
        # behind them could let every other lease of ours expire meanwhile.
        mine = (
            select(DeliveryJob.id)
            .where(DeliveryJob.claimed_by == worker_id, DeliveryJob.state == "running")
            .with_for_update(skip_locked=True)
        )
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            result = await session.execute(
                update(DeliveryJob)
                .where(DeliveryJob.id.in_(mine.scalar_subquery()), DeliveryJob.claimed_by == worker_id)
                .values(lease_until=utcnow() + self.policy.lease)
                .execution_options(synchronize_session=False)
            )
            return rowcount(result)

    async def pause_host(self, host: str, until: datetime) -> None:
        """Defer every queued job of `host`, so other workers also leave it alone for now."""
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            await session.execute(
                update(DeliveryJob)
                .where(
                    DeliveryJob.host == host,
                    DeliveryJob.state == "queued",
                    DeliveryJob.next_attempt_at < until,
                )
                .values(next_attempt_at=until)
            )

    async def backlog(self) -> metrics.DeliveryBacklog:
        """The jobs not finished, as the database holds them now (for every worker of the node)."""
        now = utcnow()
        due = and_(DeliveryJob.state == "queued", DeliveryJob.next_attempt_at <= now)
        async with self.sessions() as session:
            counts = (
                await session.execute(
                    select(
                        func.count(case((due, 1))),
                        func.count(case((DeliveryJob.state == "queued", 1))),
                        func.count(case((DeliveryJob.state == "running", 1))),
                    ).where(DeliveryJob.state.in_(("queued", "running")))
                )
            ).one()
            unreachable = await session.scalar(
                select(func.count()).select_from(Instance).where(Instance.unreachable_since.is_not(None))
            )
        due_jobs, queued_jobs, running_jobs = counts
        return metrics.DeliveryBacklog(
            due=due_jobs,
            deferred=queued_jobs - due_jobs,
            running=running_jobs,
            unreachable_hosts=unreachable or 0,
        )

    async def host_scheme(self, host: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(select(Instance.signature_scheme).where(Instance.host == host))

    async def remember_scheme(self, host: str, scheme: str) -> None:
        async with write_lock(self.sessions), self.sessions() as session, session.begin():
            instance = await _instance(session, host)
            instance.signature_scheme = scheme


async def _instance(session: AsyncSession, host: str) -> Instance:
    instance = await session.scalar(select(Instance).where(Instance.host == host))
    if instance is None:
        # Deliveries to a new host run side by side (per_host_limit) and all get here: a plain
        # INSERT failed in all but one, after their POST had succeeded, so the job was never
        # finished and was POSTed again when its lease expired. Let the first insert win.
        await session.execute(insert_or_ignore(session, Instance, ["host"], host=host))
        instance = await session.scalar(select(Instance).where(Instance.host == host))
        if instance is None:
            raise RuntimeError(f"the instances row for {host} was neither inserted nor found")
    return instance


# --- one POST, with double-knocking ----------------------------------------------------


class Deliverer:
    def __init__(
        self, fetcher: Fetcher, queue: DeliveryQueue, policies: CachedPolicies | None = None
    ) -> None:
        self.fetcher = fetcher
        self.queue = queue
        self.policies = policies
        self._schemes: dict[str, str] = {}

    async def deliver(self, job: ClaimedJob) -> Outcome:
        # Queued before the host's domain was suspended (or before allow-list mode left it out):
        # nothing more goes there. The purge deletes such jobs too; this covers the time between.
        if self.policies is not None and (await self.policies.current()).refuses(job.host):
            return Outcome("failed", error="the domain is suspended here")
        known = self._schemes.get(job.host) or await self.queue.host_scheme(job.host)
        first = known or SCHEMES[0]
        outcome = await self._post(job, first)
        if outcome.status in (400, 401):
            other = SCHEMES[1 - SCHEMES.index(first)]
            retried = await self._post(job, other)
            if retried.kind == "done":
                await self._remember(job.host, other)
            return retried if retried.kind == "done" else outcome
        if outcome.kind == "done" and known is None:
            await self._remember(job.host, first)
        return outcome

    async def _remember(self, host: str, scheme: str) -> None:
        self._schemes[host] = scheme
        await self.queue.remember_scheme(host, scheme)

    async def _post(self, job: ClaimedJob, scheme: str) -> Outcome:
        headers = {"Content-Type": "application/activity+json"}
        headers.update(
            sign_request(
                "POST",
                job.inbox_url,
                headers,
                job.body,
                key_id=job.key_id,
                private_key_pem=job.private_key_pem,
                scheme=scheme,
            )
        )
        try:
            result = await self.fetcher.post(job.inbox_url, job.body, headers, signed=False)
        except FetchError as exc:
            return Outcome("retry", None, str(exc) or type(exc).__name__)
        return classify(result.status, parse_retry_after(result.headers.get("retry-after")))


# --- the worker loop ---------------------------------------------------------------------


@dataclass
class DeliveryWorker:
    queue: DeliveryQueue
    deliverer: Deliverer
    worker_id: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:12]}")
    _in_flight: dict[str, int] = field(default_factory=dict)
    _paused: dict[str, datetime] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Claimed jobs of hosts at per_host_limit, oldest first: each starts as a POST to its host
    # ends. A host has jobs waiting only while it has a POST in flight.
    _waiting: dict[str, collections.deque[ClaimedJob]] = field(default_factory=dict)
    # Set when a POST ends and frees room a claim could fill (its host has nothing waiting).
    _room_freed: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False  # no more jobs are started: what waits is released
    # Successful deliveries not yet written: recorded together, FLUSH_DELAY after the first of
    # them (or at once when FLUSH_BATCH are waiting). A crash in between only means those jobs
    # are delivered again when their lease expires.
    _delivered: list[tuple[ClaimedJob, int | None]] = field(default_factory=list)
    _flush_wanted: asyncio.Event = field(default_factory=asyncio.Event)
    _database_was_down: bool = False  # the last claim found the database unavailable
    _interrupted: list[int] = field(default_factory=list)  # jobs whose attempt a drain cut off

    @property
    def policy(self) -> DeliveryPolicy:
        return self.queue.policy

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then drain (see the module's text)."""
        logger.info("delivery worker %s started", self.worker_id)
        renewing = asyncio.create_task(self._renew_leases())
        flushing = asyncio.create_task(self._flush_promptly())
        try:
            while not stop.is_set():
                await self._flush()
                room = self._room()
                self._room_freed.clear()
                claimed = await self._claim_batch()
                self._take(claimed)
                if len(claimed) < room:  # nothing more is claimable now: no second look at once
                    await self._idle(stop)
                elif self._room() <= 0:
                    await self._wait_for_room(stop)
        finally:
            self._stopping = True
            await self._drain()
            renewing.cancel()
            flushing.cancel()
            logger.info("delivery worker %s stopped", self.worker_id)

    def _room(self) -> int:
        """Jobs a claim may take now: the concurrency less the POSTs in flight and the jobs waiting."""
        waiting = sum(len(jobs) for jobs in self._waiting.values())
        return self.policy.concurrency - len(self._tasks) - waiting

    async def _idle(self, stop: asyncio.Event) -> None:
        """Nothing to claim: look again after `idle_poll`, or as soon as a POST ends with nothing
        of its host waiting, since that host may have more jobs due (a burst to one host, such as
        the Accepts of many Follows from one server, is claimed `per_host_batch` at a time)."""
        await self._wait_for_room(stop, timeout=self.policy.idle_poll)

    async def _wait_for_room(self, stop: asyncio.Event, timeout: float | None = None) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        freed = asyncio.ensure_future(self._room_freed.wait())
        try:
            await asyncio.wait({stopping, freed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            freed.cancel()

    async def _renew_leases(self) -> None:
        every = self.policy.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.queue.renew(self.worker_id)
            except Exception:  # the database may be briefly unavailable; the lease has time left
                logger.exception("renewing the leases of %s failed", self.worker_id)

    async def _flush_promptly(self) -> None:
        """Record successes soon after they happen, not only between claims: an idle worker may
        wait `idle_poll` before its next claim, and a kill in that time repeats every POST."""
        while True:
            await self._flush_wanted.wait()
            await asyncio.sleep(FLUSH_DELAY)
            self._flush_wanted.clear()
            await self._flush()

    async def _drain(self) -> None:
        """Give the POSTs in flight `policy.drain` seconds, record them, release what is left
        (and the jobs that waited for their host)."""
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.policy.drain)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._flush()
        released, self._interrupted = self._interrupted, []
        released += [job.id for jobs in self._waiting.values() for job in jobs]
        self._waiting.clear()
        if released:
            await self.queue.release(released, self.worker_id, utcnow())
            logger.info("delivery worker %s released %d unfinished jobs", self.worker_id, len(released))

    async def run_until_idle(self) -> None:
        """Deliver everything that is due now (tests and the CLI use this)."""
        while True:
            await self._flush()
            claimed = await self._claim_batch()
            if not claimed and not self._tasks:
                await self._flush()
                return
            self._take(claimed)
            if self._tasks:
                await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _claim_batch(self) -> list[ClaimedJob]:
        room = self._room()
        if room <= 0:
            return []
        now = utcnow()
        self._paused = {host: until for host, until in self._paused.items() if until > now}
        # A host with jobs waiting here gets no more until they have started.
        busy = {host for host, count in self._in_flight.items() if count >= self.policy.per_host_limit}
        busy.update(self._waiting)
        try:
            claimed = await self.queue.claim(self.worker_id, room, busy | set(self._paused))
        except Exception as exc:  # the database may be briefly unavailable; try again next round
            if not is_unavailable(exc):
                logger.exception("claiming delivery jobs failed")
            elif not self._database_was_down:  # one line per outage, not a traceback per poll
                logger.warning("claiming delivery jobs: the database is unavailable (%s)", first_line(exc))
            self._database_was_down = is_unavailable(exc)
            return []
        if self._database_was_down:
            logger.info("claiming delivery jobs: the database is back")
            self._database_was_down = False
        return claimed

    async def _flush(self) -> None:
        done, self._delivered = self._delivered, []
        with request_scope(None):  # the jobs of many requests, whichever attempt flushes them
            try:
                await self.queue.finish_delivered(done, self.worker_id)
            except Exception:  # the leases expire and the jobs are tried again: nothing is lost
                logger.exception("recording %d deliveries failed", len(done))

    def _take(self, claimed: list[ClaimedJob]) -> None:
        """Start what each host has room for; the rest waits for that host's POSTs to end."""
        for job in sorted(claimed, key=lambda job: job.id):
            if job.host in self._waiting or self._in_flight.get(job.host, 0) >= self.policy.per_host_limit:
                self._waiting.setdefault(job.host, collections.deque()).append(job)
            else:
                self._start(job)

    def _start_next(self, host: str) -> None:
        """A POST to `host` has ended: start its next waiting job, or free room for a claim."""
        waiting = self._waiting.get(host)
        if waiting and not self._stopping:
            self._start(waiting.popleft())
            if not waiting:
                del self._waiting[host]
        else:
            self._room_freed.set()

    def _start(self, job: ClaimedJob) -> None:
        self._in_flight[job.host] = self._in_flight.get(job.host, 0) + 1
        task = asyncio.create_task(self._attempt(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, job: ClaimedJob) -> None:
        # A task of its own: the request's id stays on this attempt's log lines only.
        with request_scope(job.request_id):
            try:
                await self._attempt_once(job)
            except asyncio.CancelledError:
                self._interrupted.append(job.id)
                raise
            except Exception:
                logger.exception("delivery %d to %s crashed; its lease will expire", job.id, job.inbox_url)
            finally:
                self._in_flight[job.host] -= 1
                self._start_next(job.host)

    async def _attempt_once(self, job: ClaimedJob) -> None:
        paused_until = self._paused.get(job.host)
        if paused_until and paused_until > utcnow():
            await self.queue.release([job.id], self.worker_id, paused_until)
            return
        outcome = await self.deliverer.deliver(job)
        metrics.count_delivery_attempt(outcome.kind)
        logger.info(
            "delivery %d of %s to %s (attempt %d): %s %s",
            job.id,
            job.activity_uri,
            job.inbox_url,
            job.attempts + 1,
            outcome.kind,
            outcome.status or outcome.error,
            extra={
                "delivery_job": job.id,
                "activity": job.activity_uri,
                "inbox": job.inbox_url,
                "outcome": outcome.kind,
                "http_status": outcome.status,
            },
        )
        delay = backoff(job.attempts + 1, self.policy, outcome.retry_after)
        if outcome.kind == "retry":
            until = utcnow() + timedelta(seconds=delay)
            self._paused[job.host] = until
            await self.queue.pause_host(job.host, until)
            waiting = self._waiting.pop(job.host, None)
            if waiting:  # claimed before the host failed: back to the queue, due when it resumes
                await self.queue.release([held.id for held in waiting], self.worker_id, until)
        if outcome.kind == "done":
            self._delivered.append((job, outcome.status))
            if len(self._delivered) >= FLUSH_BATCH:
                await self._flush()
            else:
                self._flush_wanted.set()
            return
        await self.queue.finish(job, self.worker_id, outcome, delay=delay)
