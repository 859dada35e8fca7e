"""The analytics refresh job: a full run when due, influence brought up to date in between."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config
from talentfed.domain.analytics_runs import run_analytics
from talentfed.jobs.analytics_refresh import AnalyticsRefresh
from talentfed.observability import metrics
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, ActorScore, AnalyticsRun, Embedding, Follow, utcnow
from tests.domain.test_analytics_queries import build_world
from tests.support.concept_embedder import ConceptEmbedder


@pytest.fixture
async def discovery_world(session: AsyncSession, config: Config) -> dict:
    world = await build_world(session, config)
    await session.commit()  # the job uses its own connections
    return world


async def test_the_job_runs_when_due(config: Config, engine: AsyncEngine, discovery_world: dict) -> None:
    job = AnalyticsRefresh(session_factory(engine), config)
    assert await job.due() == "full"  # never computed
    timed = _runs_timed("full")
    run = await job.run_once()
    assert await job.due() is None
    assert run.actors >= 5 and job.live is not None and len(job.live.actor_ids) == run.actors
    assert _runs_timed("full") == timed + 1  # talentfed_analytics_run_duration_seconds{kind="full"}


async def test_new_follows_update_influence_without_a_full_run(
    config: Config, engine: AsyncEngine, discovery_world: dict
) -> None:
    eager = dataclasses.replace(
        config, analytics=dataclasses.replace(config.analytics, recompute_after_edges=1)
    )
    sessions = session_factory(engine)
    job = AnalyticsRefresh(sessions, eager)
    await job.run_once()
    async with sessions() as session, session.begin():
        actors = list(await session.scalars(select(Actor).order_by(Actor.id)))
        newcomer = Actor(
            uri="https://far.example/users/new",
            type="Person",
            username="new",
            domain="far.example",
            inbox_url="https://far.example/inbox",
        )
        session.add(newcomer)
        await session.flush()
        session.add_all(
            [
                Follow(
                    follower_id=newcomer.id, followed_id=actors[0].id, state="accepted", accepted_at=utcnow()
                ),
                Follow(
                    follower_id=actors[1].id,
                    followed_id=actors[-1].id,
                    state="accepted",
                    accepted_at=utcnow(),
                ),
            ]
        )
    runs_before = await _count(sessions, AnalyticsRun)
    assert await job.due() == "new edges"
    timed = _runs_timed("catch_up")
    changed = await job.catch_up()
    assert _runs_timed("catch_up") == timed + 1
    assert changed > 0 and await job.due() is None
    assert await _count(sessions, AnalyticsRun) == runs_before  # no full run happened
    async with sessions() as session:
        live = {a: i for a, i in await session.execute(select(ActorScore.actor_id, ActorScore.influence))}
    async with sessions() as session, session.begin():
        await run_analytics(session, config)  # the reference: everything from scratch
    async with sessions() as session:
        full = {a: i for a, i in await session.execute(select(ActorScore.actor_id, ActorScore.influence))}
    assert set(full) <= set(live) and newcomer.id in live
    assert all(abs(live[actor_id] - value) < 1e-12 for actor_id, value in full.items())


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_computations_run_off_the_event_loop(
    config: Config, engine: AsyncEngine, discovery_world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Features, scores and recommendations are CPU-bound: on the event loop they would hold up
    every request the serving process answers meanwhile."""
    import threading

    from talentfed.domain import analytics_runs, observed_graph

    threads: dict[str, str] = {}

    def recorded(name: str, function: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            threads[name] = threading.current_thread().name
            return function(*args, **kwargs)

        return call

    monkeypatch.setattr(observed_graph, "build_features", recorded("features", observed_graph.build_features))
    monkeypatch.setattr(analytics_runs, "scores", recorded("scores", analytics_runs.scores))
    monkeypatch.setattr(analytics_runs, "similar_people", recorded("people", analytics_runs.similar_people))
    await AnalyticsRefresh(session_factory(engine), config).run_once()
    main = threading.main_thread().name
    assert set(threads) == {"features", "scores", "people"}
    assert all(thread != main for thread in threads.values()), threads


def _runs_timed(kind: str) -> float:
    """How many runs of `kind` the duration histogram has seen in this process."""
    count = metrics.REGISTRY.get_sample_value(
        "talentfed_analytics_run_duration_seconds_count", {"kind": kind}
    )
    return count or 0.0


async def test_the_job_embeds_in_batches_only_what_changed(
    config: Config, engine: AsyncEngine, discovery_world: dict
) -> None:
    small_batches = dataclasses.replace(config, matching=dataclasses.replace(config.matching, embed_batch=2))
    job = AnalyticsRefresh(session_factory(engine), small_batches)
    model = ConceptEmbedder()
    job.embedder = model  # the test double stands in for the optional model
    await job.run_once()  # a full run embeds first, then reads the embeddings
    first = len(model.embedded)
    assert first >= 4 and all(len(batch) <= 2 for batch in model.calls)
    async with session_factory(engine)() as session:
        stored = (await session.execute(select(func.count()).select_from(Embedding))).scalar_one()
        assert stored == first  # committed batch by batch, by the job's own transactions
        kim = await session.get(Actor, discovery_world["kim"].id)
        assert kim is not None
        kim.summary = "Acoustic models, now with graph neural networks."
        await session.commit()
    await job.embed()
    changed = "speech recognition, kaldi. Acoustic models, now with graph neural networks."
    assert model.embedded[first:] == [changed]
