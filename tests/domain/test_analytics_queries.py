"""Recommendations and rankings over the observed graph: the right people and calls, with reasons;
opt-outs never shown. And a full analytics run stores them."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import analytics_runs, ranking, recommendations
from talentfed.domain.members import NewMember, add_member
from talentfed.domain.observed_graph import load_observed
from talentfed.storage.models import Actor, ActorScore, Follow, Object, Recommendation, utcnow
from tests.support.factories import remote_actor

HIDDEN = "https://lab.example/users/hidden"


def _remote(name: str, skills: list[str], *, visible: bool = True, summary: str = "") -> Actor:
    return remote_actor(
        name,
        "lab.example",
        skills=skills,
        discoverable=visible,
        indexable=visible,
        summary=summary,
        display_name=name.title(),
    )


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> dict[str, Actor]:
    return await build_world(session, config)


async def build_world(session: AsyncSession, config: Config) -> dict[str, Actor]:
    """Two members here; on lab.example kim (similar to ada), lee, and hidden (opted out)."""
    ada = await add_member(
        session,
        config,
        NewMember(
            "ada",
            "Ada",
            skills=("Speech Recognition", "Python"),
            bio="Acoustic models for low-resource languages.",
        ),
    )
    grace = await add_member(session, config, NewMember("grace", "Grace", skills=("NLP", "Evaluation")))
    kim = _remote("kim", ["speech recognition", "kaldi"], summary="Acoustic models and speech corpora.")
    hidden = _remote("hidden", ["speech recognition", "python"], visible=False)
    lee = _remote("lee", ["evaluation", "nlp"])
    session.add_all([kim, hidden, lee])
    await session.flush()
    soon = utcnow() + timedelta(days=20)
    session.add_all(
        [
            Object(
                uri="https://lab.example/objects/asr",
                type="Note",
                kind="project",
                author_id=kim.id,
                name="Acoustic models for Swahili",
                content="<p>speech corpus work</p>",
                skills=["speech recognition", "swahili"],
                status="open",
                deadline=soon,
                extra={},
            ),
            Object(
                uri="https://lab.example/objects/old",
                type="Note",
                kind="project",
                author_id=kim.id,
                name="Closed call",
                content="speech",
                skills=["speech recognition"],
                status="closed",
                extra={},
            ),
            Object(
                uri="https://lab.example/objects/secret",
                type="Note",
                kind="project",
                author_id=hidden.id,
                name="Hidden author's call",
                content="speech",
                skills=["speech recognition"],
                status="open",
                extra={},
            ),
        ]
    )
    # ada follows kim; kim and hidden follow each other; lee follows grace.
    for follower, followed in ((ada, kim), (kim, hidden), (hidden, kim), (lee, grace)):
        session.add(Follow(follower_id=follower.id, followed_id=followed.id, state="accepted"))
    await session.flush()
    return {"ada": ada, "grace": grace, "kim": kim, "hidden": hidden, "lee": lee}


async def test_similar_people_elsewhere_with_the_shared_skills(
    session: AsyncSession, config: Config, world: dict
) -> None:
    observed = await load_observed(session, config)
    found = recommendations.similar_people(
        observed, observed.row_of[world["ada"].id], other_institutions=True
    )
    assert found[0].uri == world["kim"].uri
    assert "speech recognition" in found[0].shared_skills
    assert "shared skills: speech recognition" in found[0].why
    assert HIDDEN not in [r.uri for r in found]
    assert world["grace"].uri not in [r.uri for r in found]  # same institution, excluded on request


async def test_matching_projects_and_candidates(session: AsyncSession, config: Config, world: dict) -> None:
    observed = await load_observed(session, config)
    projects = recommendations.matching_projects(observed, [observed.row_of[world["ada"].id]])
    assert [r.uri for r in projects] == [
        "https://lab.example/objects/asr"
    ]  # not closed, not the hidden author's
    assert projects[0].shared_skills == ("speech recognition",)
    team = recommendations.matching_projects(
        observed, [observed.row_of[world["ada"].id], observed.row_of[world["grace"].id]]
    )
    assert [r.uri for r in team] == ["https://lab.example/objects/asr"]
    index = next(i for i, p in enumerate(observed.projects) if p.uri.endswith("/asr"))
    people = [r.uri for r in recommendations.candidates(observed, index)]
    assert people[0] == world["ada"].uri and HIDDEN not in people and world["kim"].uri not in people


async def test_influence_is_the_formula_and_hides_opt_outs(
    session: AsyncSession, config: Config, world: dict
) -> None:
    observed = await load_observed(session, config)
    inf, _ = ranking.scores(observed)
    row = observed.row_of
    # N(kim) = {ada, hidden}, |N(ada)| = 1, |N(hidden)| = 1  →  I(kim) = (1/2)(1/√1 + 1/√1) = 1
    assert inf[row[world["kim"].id]] == pytest.approx(1.0)
    # N(ada) = {kim}, |N(kim)| = 2  →  I(ada) = 1/√2
    assert inf[row[world["ada"].id]] == pytest.approx(1 / math.sqrt(2))
    ranked = ranking.ranking(observed)
    assert HIDDEN not in [r.uri for r in ranked]
    # I(grace) = I(lee) = 1 too (each other's only neighbour); ada follows the busier kim.
    assert {r.uri for r in ranked[:3]} == {world["kim"].uri, world["grace"].uri, world["lee"].uri}
    assert [r.uri for r in ranked[3:]] == [world["ada"].uri]
    speech = ranking.ranking(observed, skill="#SpeechRecognition")
    assert {r.uri for r in speech} == {world["ada"].uri, world["kim"].uri}


async def test_a_run_stores_scores_and_recommendations(
    session: AsyncSession, config: Config, world: dict
) -> None:
    run = await analytics_runs.run_analytics(session, config)
    assert run.actors >= 5 and run.projects == 3
    stored = {score.actor_id: score for score in await session.scalars(select(ActorScore))}
    assert stored[world["kim"].id].influence == pytest.approx(1.0)
    recommendations = list(await session.scalars(select(Recommendation)))
    assert {
        r.target_uri for r in recommendations if r.actor_id == world["ada"].id and r.kind == "project"
    } == {"https://lab.example/objects/asr"}
    assert all(r.target_uri != HIDDEN and "secret" not in r.target_uri for r in recommendations)
    kims = [r for r in recommendations if r.actor_id == world["ada"].id and r.target_uri == world["kim"].uri]
    # The reasons are stored with it: ada follows no one who follows kim; no embeddings here.
    assert kims and kims[0].shared[0]["skills"] == ["speech recognition"]
    assert kims[0].shared[0]["similar_topic"] is False and kims[0].shared[0]["followed_by"] == []
    assert await analytics_runs.new_edges_since(session, run.computed_at) == 0
