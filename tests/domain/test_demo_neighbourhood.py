"""The demo's observed neighbourhood: a first start has recommendations with reasons, influence
by skill and a neighbourhood; it is marked as demo data and goes with one call."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics import embedders
from talentfed.config import Config
from talentfed.domain import embeddings, ranking, recommendations
from talentfed.domain.demo import ensure_demo
from talentfed.domain.demo_neighbourhood import (
    DEMO_DOMAINS,
    DEMO_FIELD,
    DEMO_MARK,
    ensure_neighbourhood,
    remove_neighbourhood,
)
from talentfed.domain.members import find_local_actor
from talentfed.domain.observed_graph import load_observed
from talentfed.storage.models import Actor, Follow, Object


async def _count(session: AsyncSession, model: type, *where: object) -> int:
    query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
    return int((await session.execute(query)).scalar_one())


async def test_a_first_start_has_recommendations_rankings_and_neighbours(
    session: AsyncSession, config: Config
) -> None:
    await ensure_demo(session, config)
    assert await ensure_neighbourhood(session) == 7
    assert await ensure_neighbourhood(session) == 0  # again: nothing twice
    demo_actors = (await session.execute(select(Actor).where(Actor.domain.in_(DEMO_DOMAINS)))).scalars().all()
    assert all(actor.fields == [{"name": DEMO_FIELD, "value": DEMO_MARK}] for actor in demo_actors)
    observed = await load_observed(session, config)
    ada = await find_local_actor(session, "ada")
    assert ada is not None
    people = recommendations.similar_people(observed, observed.row_of[ada.id], other_institutions=True)
    assert people and all(r.why and r.why != "nothing shared" for r in people)
    assert people[0].uri == "https://lab.demo.invalid/users/amina"  # speech recognition, as ada
    calls = recommendations.matching_projects(observed, [observed.row_of[ada.id]])
    assert calls and calls[0].why
    ranked = ranking.ranking(observed, skill="evaluation")
    assert ranked and ranked[0].influence > 0
    assert ranking.ranking(observed)[0].influence > 0  # no more "No one yet"


async def test_one_call_removes_it_and_only_it(session: AsyncSession, config: Config) -> None:
    await ensure_demo(session, config)
    await ensure_neighbourhood(session)
    members_posts = await _count(session, Object, Object.uri.like("http%://127.0.0.1%"))
    assert members_posts == 4  # the demo institution's article, question, answer and call
    assert await remove_neighbourhood(session) == 7
    assert await _count(session, Actor, Actor.domain.in_(DEMO_DOMAINS)) == 0
    assert await _count(session, Object, Object.uri.like("%.invalid/%")) == 0
    assert await _count(session, Follow) == 0  # every demo follow had a demo end
    assert await find_local_actor(session, "ada") is not None
    assert await _count(session, Object, Object.uri.like("http%://127.0.0.1%")) == members_posts


async def test_with_the_model_a_call_in_chinese_reaches_an_english_profile(
    session: AsyncSession, config: Config
) -> None:
    pytest.importorskip(embedders.MODEL_PACKAGE, reason="the `semantic` extra is not installed")
    model = embedders.load_embedder()
    assert model is not None
    await ensure_demo(session, config)
    await ensure_neighbourhood(session)
    done = await embeddings.refresh(session, config, model)
    assert done.embedded > 10
    observed = await load_observed(session, config)
    call = next(i for i, p in enumerate(observed.projects) if p.uri.endswith("/swahili-asr"))
    found = recommendations.candidates(observed, call)
    ada = await find_local_actor(session, "ada")
    assert ada is not None
    # Li Wei's call is in Chinese; ada's profile in English, about speech recognition.
    by_uri = {r.uri: r for r in found}
    assert ada.uri in by_uri and "similar topic" in by_uri[ada.uri].why
