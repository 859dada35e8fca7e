"""How a member's post has travelled: a read-model over `activities` and `delivery_jobs`.

A post's activities are its Create, Updates and Delete (signed by its author) and the
institution's Announce of a project call (signed by the institution's Organization actor);
`outbox.send` queued one delivery job per remote inbox for each. A server (host) may have
several jobs, one per activity and inbox; it is counted once, in the least finished state
of its jobs (the states of `federation/delivery.py`):

- `failing`: a job is still to be tried (queued, or running) after failing at least once;
- `queued`: a job waits for its first try, or is being tried for the first time;
- `dead`: nothing is pending and a job was given up on (a 4xx other than 401/408/429, or
  still failing after the delivery policy's give-up time);
- `delivered`: every job is done.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, SQLColumnExpression, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.storage.models import Activity, Actor, DeliveryJob, Object

AUTHOR_VERBS = ("Create", "Update", "Delete")
PENDING = ("queued", "running")
# A host's state is the highest rank among its jobs.
STATES = {4: "failing", 3: "queued", 2: "dead", 1: "delivered"}
CHUNK = 500  # post ids per query in delivery_status_many

_RANK = case(
    (and_(DeliveryJob.state.in_(PENDING), DeliveryJob.attempts > 0), 4),
    (DeliveryJob.state.in_(PENDING), 3),
    (DeliveryJob.state == "dead", 2),
    else_=1,
)


@dataclass(frozen=True)
class DeliverySummary:
    """Servers (hosts) by state; each host is counted once."""

    delivered: int = 0
    queued: int = 0
    failing: int = 0
    dead: int = 0

    @property
    def hosts(self) -> int:
        return self.delivered + self.queued + self.failing + self.dead

    @property
    def pending(self) -> int:
        return self.queued + self.failing


@dataclass(frozen=True)
class HostDelivery:
    """One server: its state, and the job that puts it in that state (the latest one)."""

    host: str
    state: str  # delivered | queued | failing | dead
    attempts: int  # of that job
    last_status: int | None  # its last HTTP status (None: no answer, or not tried yet)
    last_error: str | None
    next_attempt_at: datetime | None  # the earliest pending job's next try; None if none pending
    jobs: int  # jobs for this host (one per activity and inbox)
    activities: tuple[str, ...]  # the types of the activities sent there, e.g. ("Create", "Update")


@dataclass(frozen=True)
class DeliveryStatus:
    post_uri: str
    summary: DeliverySummary
    hosts: tuple[HostDelivery, ...]  # failing first, then queued, dead, delivered; by host


def _jobs_of_posts(post_ids: list[int], *columns: SQLColumnExpression[Any]) -> Select[*tuple[Any, ...]]:
    """`columns` (of Object, Activity, DeliveryJob) for every delivery job of the posts' activities."""
    author = aliased(Actor)
    institutions = select(Actor.uri).where(Actor.local.is_(True), Actor.type == "Organization")
    return (
        select(*columns)
        .select_from(Object)
        .join(author, author.id == Object.author_id)
        .join(Activity, Activity.object_uri == Object.uri)
        .join(DeliveryJob, DeliveryJob.activity_id == Activity.id)
        .where(
            Object.id.in_(post_ids),
            Activity.local.is_(True),
            or_(
                and_(Activity.type.in_(AUTHOR_VERBS), Activity.actor_uri == author.uri),
                and_(Activity.type == "Announce", Activity.actor_uri.in_(institutions)),
            ),
        )
    )


_JOB_COLUMNS = (
    DeliveryJob.id,
    DeliveryJob.host,
    DeliveryJob.state,
    DeliveryJob.attempts,
    DeliveryJob.last_status,
    DeliveryJob.last_error,
    DeliveryJob.next_attempt_at,
    DeliveryJob.updated_at,
    _RANK.label("rank"),
    Activity.type.label("activity_type"),
)


async def delivery_status(session: AsyncSession, post: Object) -> DeliveryStatus:
    """Per server, how the post's activities have been delivered."""
    rows = await session.execute(_jobs_of_posts([post.id], *_JOB_COLUMNS).order_by(DeliveryJob.id))
    by_host: dict[str, list[Row[*tuple[Any, ...]]]] = defaultdict(list)
    for row in rows:
        by_host[row.host].append(row)
    hosts = [_host_delivery(host, jobs) for host, jobs in by_host.items()]
    order = {state: -rank for rank, state in STATES.items()}
    hosts.sort(key=lambda host: (order[host.state], host.host))
    counts = {state: 0 for state in STATES.values()}
    for host in hosts:
        counts[host.state] += 1
    return DeliveryStatus(post_uri=post.uri, summary=DeliverySummary(**counts), hosts=tuple(hosts))


def _host_delivery(host: str, jobs: list[Row[*tuple[Any, ...]]]) -> HostDelivery:
    rank = max(job.rank for job in jobs)
    latest = max((job for job in jobs if job.rank == rank), key=lambda job: (job.updated_at, job.id))
    pending = [job.next_attempt_at for job in jobs if job.state in PENDING]
    return HostDelivery(
        host=host,
        state=STATES[rank],
        attempts=latest.attempts,
        last_status=latest.last_status,
        last_error=latest.last_error,
        next_attempt_at=min(pending) if pending else None,
        jobs=len(jobs),
        activities=tuple(dict.fromkeys(job.activity_type for job in jobs)),
    )


async def delivery_status_many(session: AsyncSession, posts: Iterable[Object]) -> dict[int, DeliverySummary]:
    """The counts of `delivery_status` for many posts (a list page), by post id: one query
    per CHUNK posts. Posts with no delivery job get an empty summary."""
    ids = list(dict.fromkeys(post.id for post in posts))
    counts: dict[int, dict[str, int]] = {post_id: {} for post_id in ids}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        jobs = _jobs_of_posts(
            chunk, Object.id.label("post_id"), DeliveryJob.host.label("host"), _RANK.label("rank")
        ).subquery()
        per_host = (
            select(jobs.c.post_id, func.max(jobs.c.rank).label("rank"))
            .group_by(jobs.c.post_id, jobs.c.host)
            .subquery()
        )
        rows = await session.execute(
            select(per_host.c.post_id, per_host.c.rank, func.count()).group_by(
                per_host.c.post_id, per_host.c.rank
            )
        )
        for post_id, rank, count in rows:
            counts[post_id][STATES[rank]] = count
    return {post_id: DeliverySummary(**state_counts) for post_id, state_counts in counts.items()}
