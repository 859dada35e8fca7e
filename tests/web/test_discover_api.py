"""Discovery endpoints: results with reasons and computed_at, paging, clear errors, no opt-outs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, ActorScore, AnalyticsRun, Follow, utcnow
from talentfed.web.app import create_app
from tests.domain.test_discovery import HIDDEN, build_world
from tests.support.factories import remote_actor

API = "/api/talentfed/v1"


@pytest.fixture
async def discovery_world(session: AsyncSession, config: Config) -> dict:
    world = await build_world(session, config)
    await session.commit()  # the app and the job use their own connections
    return world


@pytest.fixture
async def client(
    config: Config, engine: AsyncEngine, session: AsyncSession, discovery_world: dict
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, engine=engine, run_workers=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=config.node.base_url) as c,
    ):
        yield c


async def test_people_projects_candidates_influence(client: httpx.AsyncClient) -> None:
    people = (await client.get(f"{API}/discover/people", params={"member": "ada"})).json()
    assert people["computed_at"] and people["items"][0]["uri"] == "https://lab.example/users/kim"
    assert people["items"][0]["shared_skills"] == ["speech recognition"]
    projects = (
        await client.get(f"{API}/discover/projects", params=[("member", "ada"), ("member", "grace")])
    ).json()
    assert [p["uri"] for p in projects["items"]] == ["https://lab.example/objects/asr"]
    found = (
        await client.get(f"{API}/discover/candidates", params={"project": "https://lab.example/objects/asr"})
    ).json()
    assert found["items"][0]["uri"].endswith("/users/ada")
    ranking = (await client.get(f"{API}/influence", params={"skill": "speech recognition"})).json()
    assert {item["uri"] for item in ranking["items"]} == {
        "http://127.0.0.1:8000/users/ada",
        "https://lab.example/users/kim",
    }
    for response in (people, projects, found, ranking):
        assert HIDDEN not in str(response)


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/discover/people", {}, 422, "member"),
        ("/discover/people", {"member": "nobody"}, 404, "member"),
        ("/discover/people", {"member": "ada", "page": "0"}, 422, "page"),
        ("/discover/projects", {}, 422, "member"),
        ("/discover/candidates", {"project": "https://nowhere.example/p"}, 404, "project"),
        ("/influence", {"measure": "fame"}, 422, "measure"),
    ],
)
async def test_bad_queries(
    client: httpx.AsyncClient, path: str, params: dict, status: int, field: str
) -> None:
    response = await client.get(API + path, params=params)
    assert response.status_code == status and response.json()["field"] == field


async def test_the_job_runs_when_due(config: Config, engine: AsyncEngine, discovery_world: dict) -> None:
    from talentfed.web.discover import AnalyticsJob

    job = AnalyticsJob(session_factory(engine), config)
    assert await job.due() == "full"  # never computed
    await job.run_once()
    assert await job.due() is None
    assert job.snapshot is not None and job.snapshot.n >= 5


async def test_new_follows_update_influence_without_a_full_run(
    config: Config, engine: AsyncEngine, discovery_world: dict
) -> None:
    from talentfed.domain.discovery import run_analytics
    from talentfed.web.discover import AnalyticsJob

    eager = dataclasses.replace(
        config, analytics=dataclasses.replace(config.analytics, recompute_after_edges=1)
    )
    sessions = session_factory(engine)
    job = AnalyticsJob(sessions, eager)
    await job.run_once()
    async with sessions() as session, session.begin():
        actors = list(await session.scalars(select(Actor).order_by(Actor.id)))
        newcomer = remote_actor("new", "far.example")
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
    changed = await job.catch_up()
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
