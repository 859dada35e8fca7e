"""Analytics endpoints: results with reasons and computed_at, paging, clear errors, no opt-outs;
they follow the results that the analytics job stores, whichever process computed them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config
from talentfed.jobs.analytics_refresh import AnalyticsRefresh
from talentfed.storage.db import session_factory
from talentfed.storage.models import ActorScore, Follow, utcnow
from talentfed.web.app import create_app
from tests.domain.test_analytics_queries import HIDDEN, build_world
from tests.support import remote_actor

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


async def test_the_api_follows_what_the_job_stored_in_another_process(
    client: httpx.AsyncClient, config: Config, engine: AsyncEngine, discovery_world: dict
) -> None:
    """The job runs outside the app (as in `talentfed worker`); the app reads what it stored."""
    first = (await client.get(f"{API}/influence")).json()  # a snapshot, loaded before any run
    job = AnalyticsRefresh(session_factory(engine), config)
    await job.run_once()
    after_run = (await client.get(f"{API}/influence")).json()
    assert datetime.fromisoformat(after_run["computed_at"]) > datetime.fromisoformat(first["computed_at"])

    ada = discovery_world["ada"]
    async with session_factory(engine)() as session, session.begin():
        fan = remote_actor("fan", "far.example")
        session.add(fan)
        await session.flush()
        session.add(Follow(follower_id=fan.id, followed_id=ada.id, state="accepted", accepted_at=utcnow()))
    assert await job.catch_up() > 0  # no new run: only ada's and her neighbours' scores change
    async with session_factory(engine)() as session:
        stored = await session.scalar(select(ActorScore.influence).where(ActorScore.actor_id == ada.id))
    ranked = (await client.get(f"{API}/influence")).json()
    assert ranked["computed_at"] == after_run["computed_at"]
    influence = {item["uri"]: item["influence"] for item in ranked["items"]}
    before = {item["uri"]: item["influence"] for item in after_run["items"]}
    assert influence[ada.uri] == pytest.approx(stored) and stored != pytest.approx(before[ada.uri])
