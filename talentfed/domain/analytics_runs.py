"""The stored results of analytics: full runs, and influence kept current between them.

A full run (`run_analytics`) recomputes influence, PageRank and members' recommendations from a
fresh snapshot of the observed graph and stores them with an `analytics_runs` row. Between full
runs, follows keep being accepted; `LiveInfluence` holds the follow graph of the last snapshot in
memory (`analytics.influence.InfluenceGraph`) and applies the new follows only: the influence of
the new edges' ends and of their neighbours is recomputed and stored, nothing else is touched. An
unfollow (an edge removed) waits for the next full run, which the schedule brings.

Several processes may refresh analytics at once (`talentfed serve` and `talentfed worker`); on
PostgreSQL their writes to `actor_scores` take turns on an advisory lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics.embedders import Embedder
from talentfed.analytics.influence import InfluenceGraph
from talentfed.config import Config
from talentfed.domain import embeddings
from talentfed.domain.observed_graph import Observed, load_observed
from talentfed.domain.ranking import scores
from talentfed.domain.recommendations import Result, matching_projects, similar_people
from talentfed.storage.models import ActorScore, AnalyticsRun, Follow, Interaction, Recommendation, utcnow

TOP_K_STORED = 20
# Any number fixed for this purpose: the key of the PostgreSQL advisory lock that analytics
# writers take in turn (pg_advisory_xact_lock, released when their transaction ends).
WRITERS_LOCK = 7_214_803_349
# Follows accepted this long before a snapshot was taken are read again when it is brought up to
# date: one accepted while the snapshot loaded is then not missed, and a known edge changes nothing.
OVERLAP = timedelta(minutes=1)
IN_LIST = 500  # ids per IN (...) clause


async def run_analytics(
    session: AsyncSession,
    config: Config,
    progress: Callable[[str], None] | None = None,
    embedder: Embedder | None = None,
) -> AnalyticsRun:
    """Recompute everything and store it with its computed_at (scores, and members' recommendations).
    With an `embedder`, the new and changed texts are embedded first."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    if embedder is not None:
        done = await embeddings.refresh(session, config, embedder)
        say(f"embedded {done.embedded} texts ({done.unchanged} unchanged, {done.forgotten} forgotten)")
    say("loading the observed graph")
    observed = await load_observed(session, config)
    return await store_run(session, observed, started, say)


async def store_run(
    session: AsyncSession, observed: Observed, started: float, say: Callable[[str], None]
) -> AnalyticsRun:
    """Compute and store the scores and recommendations of a snapshot loaded since `started`."""
    say(f"{observed.n} actors, {len(observed.follow_src)} follows, {len(observed.projects)} project calls")
    # The computations are CPU-bound and run in a thread: on the event loop they would hold up
    # every request the process serves meanwhile (seconds, on a large graph).
    inf, rank = await asyncio.to_thread(scores, observed)
    await take_writers_lock(session)
    now = observed.computed_at
    await session.execute(delete(ActorScore))
    session.add_all(
        [
            ActorScore(actor_id=a.id, influence=float(inf[i]), pagerank=float(rank[i]), computed_at=now)
            for i, a in enumerate(observed.actors)
        ]
    )
    say("influence and PageRank stored")
    await session.execute(delete(Recommendation))
    members = [i for i, a in enumerate(observed.actors) if a.local and a.person]
    for done, row in enumerate(members, start=1):
        for kind, results in await asyncio.to_thread(_recommended_for, observed, row):
            session.add_all(
                [
                    Recommendation(
                        actor_id=observed.actors[row].id,
                        kind=kind,
                        rank=position,
                        target_uri=r.uri,
                        score=r.score,
                        computed_at=now,
                        shared=[
                            {
                                "skills": list(r.shared_skills),
                                "terms": list(r.shared_terms),
                                "similar_topic": r.similar_topic,
                                "followed_by": list(r.followed_by),
                            }
                        ],
                    )
                    for position, r in enumerate(results)
                ]
            )
        say(f"recommendations: {done}/{len(members)} members")
    run = AnalyticsRun(
        computed_at=now,
        actors=observed.n,
        edges=len(observed.follow_src) + len(observed.interaction_src),
        projects=len(observed.projects),
        seconds=time.perf_counter() - started,
    )
    session.add(run)
    await session.flush()
    return run


def _recommended_for(observed: Observed, row: int) -> list[tuple[str, list[Result]]]:
    return [
        ("person", similar_people(observed, row, TOP_K_STORED, other_institutions=True)),
        ("project", matching_projects(observed, [row], TOP_K_STORED)),
    ]


async def latest_run(session: AsyncSession) -> AnalyticsRun | None:
    return await session.scalar(select(AnalyticsRun).order_by(AnalyticsRun.computed_at.desc()).limit(1))


async def new_edges_since(session: AsyncSession, moment: datetime) -> int:
    follows = await session.scalar(select(func.count()).select_from(Follow).where(Follow.created_at > moment))
    interactions = await session.scalar(
        select(func.count()).select_from(Interaction).where(Interaction.created_at > moment)
    )
    return int(follows or 0) + int(interactions or 0)


async def take_writers_lock(session: AsyncSession) -> None:
    """Wait until no other process writes analytics results (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})


async def influence_stored_since(session: AsyncSession, moment: datetime) -> dict[int, float]:
    """Actor id → influence, for the scores written after `moment` (by `LiveInfluence`)."""
    query = select(ActorScore.actor_id, ActorScore.influence).where(ActorScore.computed_at > moment)
    return {actor_id: value for actor_id, value in await session.execute(query)}


# --- between full runs -----------------------------------------------------------------------


@dataclass
class LiveInfluence:
    graph: InfluenceGraph
    actor_ids: list[int]  # vertex → actor id
    vertex_of: dict[int, int]  # actor id → vertex
    since: datetime  # follows accepted after this may be missing from the graph

    @classmethod
    def from_snapshot(cls, observed: Observed) -> LiveInfluence:
        ids = [actor.id for actor in observed.actors]
        graph = InfluenceGraph(observed.follow_src, observed.follow_dst, observed.n)
        return cls(graph, ids, {actor_id: row for row, actor_id in enumerate(ids)}, observed.computed_at)

    def _vertex(self, actor_id: int) -> int:
        vertex = self.vertex_of.get(actor_id)
        if vertex is None:  # an actor first seen since the snapshot: a new vertex
            vertex = self.vertex_of[actor_id] = len(self.actor_ids)
            self.actor_ids.append(actor_id)
        return vertex

    async def catch_up(self, session: AsyncSession) -> int:
        """Add the follows accepted since the last call and store the changed scores.

        Returns how many actors' influence changed in the database.
        """
        await take_writers_lock(session)
        started = utcnow()
        accepted_at = func.coalesce(Follow.accepted_at, Follow.created_at)
        pairs = (
            await session.execute(
                select(Follow.follower_id, Follow.followed_id).where(
                    Follow.state == "accepted", accepted_at > self.since - OVERLAP
                )
            )
        ).all()
        self.since = started
        if not pairs:
            return 0
        src = np.array([self._vertex(a) for a, _ in pairs], dtype=np.int64)
        dst = np.array([self._vertex(b) for _, b in pairs], dtype=np.int64)
        touched = self.graph.add_edges(src, dst)
        await _store(session, [self.actor_ids[v] for v in touched], self.graph.influence[touched])
        return int(touched.size)


async def _store(session: AsyncSession, actor_ids: list[int], values: np.ndarray) -> None:
    """Write new influence values, keeping each actor's PageRank from the last full run."""
    now = utcnow()
    for start in range(0, len(actor_ids), IN_LIST):
        ids = actor_ids[start : start + IN_LIST]
        known = select(ActorScore.actor_id, ActorScore.pagerank).where(ActorScore.actor_id.in_(ids))
        rank = {actor_id: value for actor_id, value in await session.execute(known)}
        await session.execute(delete(ActorScore).where(ActorScore.actor_id.in_(ids)))
        session.add_all(
            [
                ActorScore(
                    actor_id=actor_id,
                    influence=float(value),
                    pagerank=rank.get(actor_id, 0.0),
                    computed_at=now,
                )
                for actor_id, value in zip(ids, values[start : start + IN_LIST], strict=True)
            ]
        )
    await session.flush()
