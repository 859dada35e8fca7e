"""Embedding bookkeeping and the hybrid recommendations, with a test double for the model
(tests/support/concept_embedder.py): what is embedded, that unchanged text is never embedded
again, that opt-outs are forgotten, and the reasons recommendations give."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import embeddings, recommendations
from talentfed.domain.members import NewMember, add_member
from talentfed.domain.observed_graph import load_observed
from talentfed.storage.models import Actor, Embedding, Follow, Object, utcnow
from tests.support.concept_embedder import ConceptEmbedder
from tests.support.factories import remote_actor


def _person(name: str, summary: str, *, skills: list[str] | None = None, visible: bool = True) -> Actor:
    return remote_actor(
        name,
        "lab.example",
        skills=skills or [],
        summary=summary,
        display_name=name.title(),
        discoverable=visible,
        indexable=visible,
    )


def _call(author: Actor, title: str, content: str, **fields: object) -> Object:
    values: dict = dict(
        uri=f"https://lab.example/objects/{title.split()[0].lower()}",
        type="Note",
        kind="project",
        author_id=author.id,
        name=title,
        content=content,
        skills=[],
        status="open",
        deadline=utcnow() + timedelta(days=30),
        extra={},
    )
    return Object(**(values | fields))


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> dict[str, Actor]:
    """ada (here) writes about GNNs in English; wu (elsewhere) about 图神经网络 in Chinese; bo
    about cooking; hidden has opted out. wu has a project call written in Chinese."""
    ada = await add_member(session, config, NewMember("ada", "Ada", bio="GNN models for chemistry."))
    wu = _person("wu", "<p>图神经网络 研究</p>")
    bo = _person("bo", "Cooking pasta, and chemistry models for sauces.")
    hidden = _person("hidden", "GNN graph models", visible=False)
    session.add_all([wu, bo, hidden])
    await session.flush()
    session.add_all(
        [
            _call(wu, "图神经网络 项目", "<p>图神经网络</p>"),
            _call(hidden, "Hidden GNN call", "graph"),
            _call(bo, "Private pasta call", "pasta", visibility="followers"),
        ]
    )
    await session.flush()
    return {"ada": ada, "wu": wu, "bo": bo, "hidden": hidden}


async def _stored(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Embedding))).scalar_one())


async def test_only_what_the_opt_outs_allow_is_embedded(
    session: AsyncSession, config: Config, world: dict
) -> None:
    model = ConceptEmbedder()
    done = await embeddings.refresh(session, config, model)
    texts = model.embedded
    assert done.embedded == len(texts) == await _stored(session)
    assert any("GNN models for chemistry" in text for text in texts)
    assert any("图神经网络 项目" in text for text in texts)  # a public call of a listed author
    assert not any("Hidden" in text or "GNN graph models" in text for text in texts)  # opted out
    assert not any("Private pasta call" in text for text in texts)  # not public
    assert not any("<p>" in text for text in texts)  # embedded as plain text


async def test_unchanged_text_is_never_embedded_again(
    session: AsyncSession, config: Config, world: dict
) -> None:
    model = ConceptEmbedder()
    first = await embeddings.refresh(session, config, model)
    again = await embeddings.refresh(session, config, model)
    assert again.embedded == 0 and again.unchanged == first.embedded
    world["bo"].summary = "Now graph learning."
    await session.flush()
    changed = await embeddings.refresh(session, config, model)
    assert changed.embedded == 1 and model.calls[-1] == ["Now graph learning."]
    other_model = ConceptEmbedder("another-model")  # a new model re-embeds everything
    assert (await embeddings.refresh(session, config, other_model)).embedded == first.embedded


async def test_opting_out_or_deleting_forgets_the_embedding(
    session: AsyncSession, config: Config, world: dict
) -> None:
    model = ConceptEmbedder()
    before = (await embeddings.refresh(session, config, model)).embedded
    world["wu"].indexable = False  # wu's profile and wu's call go
    await session.flush()
    done = await embeddings.refresh(session, config, model)
    assert done.forgotten == 2 and await _stored(session) == before - 2
    ids = set((await session.execute(select(Embedding.actor_id))).scalars())
    assert world["wu"].id not in ids


async def test_similar_topic_is_found_across_words_and_languages(
    session: AsyncSession, config: Config, world: dict
) -> None:
    await embeddings.refresh(session, config, ConceptEmbedder())
    observed = await load_observed(session, config)
    assert observed.people_embeddings is not None
    ada = observed.row_of[world["ada"].id]
    people = recommendations.similar_people(observed, ada, other_institutions=True)
    assert people[0].uri == world["wu"].uri  # no word in common with ada: the embedding found wu
    assert people[0].similar_topic and people[0].why == "similar topic"
    assert world["hidden"].uri not in [r.uri for r in people]
    calls = recommendations.matching_projects(observed, [ada])
    assert [r.uri for r in calls] == ["https://lab.example/objects/图神经网络"]
    assert "similar topic" in calls[0].why


async def test_without_embeddings_words_and_skills_decide_as_before(
    session: AsyncSession, config: Config, world: dict
) -> None:
    observed = await load_observed(session, config)  # nothing embedded: no `semantic` extra
    assert observed.people_embeddings is None
    ada = observed.row_of[world["ada"].id]
    people = recommendations.similar_people(observed, ada, other_institutions=True)
    assert [r.uri for r in people] == [world["bo"].uri]  # "chemistry models": the shared words
    assert people[0].shared_terms and not people[0].similar_topic
    assert "shared terms: " in people[0].why and "similar topic" not in people[0].why


async def test_the_reasons_name_who_in_your_network_follows_them(
    session: AsyncSession, config: Config, world: dict
) -> None:
    kim = _person("kim", "Chemistry.")
    session.add(kim)
    await session.flush()
    ada, bo = world["ada"], world["bo"]
    session.add_all(
        [
            Follow(follower_id=ada.id, followed_id=kim.id, state="accepted"),
            Follow(follower_id=kim.id, followed_id=bo.id, state="accepted"),
            Follow(follower_id=world["hidden"].id, followed_id=bo.id, state="accepted"),
        ]
    )
    await session.flush()
    observed = await load_observed(session, config)
    people = recommendations.similar_people(observed, observed.row_of[ada.id], other_institutions=True)
    found = {r.uri: r for r in people}
    assert found[bo.uri].followed_by == ("@kim@lab.example",)  # not hidden, who opted out
    assert "followed by @kim@lab.example in your network" in found[bo.uri].why


async def test_the_weights_come_from_the_configuration(
    session: AsyncSession, config: Config, world: dict
) -> None:
    await embeddings.refresh(session, config, ConceptEmbedder())
    words_only = replace(config, matching=replace(config.matching, embedding_weight=0.0))
    observed = await load_observed(session, words_only)
    assert observed.weights.embedding == 0
    ada = observed.row_of[world["ada"].id]
    people = recommendations.similar_people(observed, ada, other_institutions=True)
    assert [r.uri for r in people] == [world["bo"].uri]  # wu shares no word, and meaning counts 0
