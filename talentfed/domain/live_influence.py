"""Influence kept current between full analytics runs.

A full run (`discovery.run_analytics`) recomputes everything. Between full runs, follows keep
being accepted; `LiveInfluence` holds the follow graph of the last snapshot in memory
(`analytics.influence.InfluenceGraph`) and applies the new follows only: the influence of the
new edges' ends and of their neighbours is recomputed and stored, nothing else is touched. An
unfollow (an edge removed) waits for the next full run, which the schedule brings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics.influence import InfluenceGraph
from talentfed.domain.discovery import Observed
from talentfed.storage.models import ActorScore, Follow, utcnow

# Follows accepted this long before a snapshot was taken are read again when it is brought up to
# date: one accepted while the snapshot loaded is then not missed, and a known edge changes nothing.
OVERLAP = timedelta(minutes=1)
IN_LIST = 500  # ids per IN (...) clause


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
