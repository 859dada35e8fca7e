"""Recommendations over many candidates: the hybrid score over a shortlist (the best of each
signal, the embedding's through the approximate index) finds what scoring everyone finds."""

from __future__ import annotations

import numpy as np
import pytest

from talentfed.analytics.embeddings import unit_rows
from talentfed.analytics.features import Document, build_features
from talentfed.domain import recommendations
from talentfed.domain.observed_graph import ActorInfo, Observed

PEOPLE = 3000
TOPICS = 30
QUERIES = 40


def _neighbourhood(seed: int = 7) -> Observed:
    """PEOPLE people on TOPICS topics: words, skills and an embedding drawn from their topic,
    random follows; one in twenty hidden (opted out), so never offered."""
    rng = np.random.default_rng(seed)
    words = [[f"t{topic}w{n}" for n in range(12)] for topic in range(TOPICS)]
    skills = [[f"skill-{topic}-{n}" for n in range(4)] for topic in range(TOPICS)]
    centres = unit_rows(rng.standard_normal((TOPICS, 48)).astype(np.float32))
    topic_of = rng.integers(0, TOPICS, PEOPLE)
    documents, actors = [], []
    for person, topic in enumerate(topic_of):
        # Mostly its own topic's words, some of a neighbouring topic's.
        own = rng.choice(words[topic], 6).tolist() + rng.choice(words[(topic + 1) % TOPICS], 2).tolist()
        documents.append(
            Document(
                skills=rng.choice(skills[topic], 2, replace=False).tolist(), texts=[(" ".join(own), 1.0)]
            )
        )
        actors.append(
            ActorInfo(
                person,
                f"https://n{person % 9}.example/u/{person}",
                f"@u{person}@n{person % 9}.example",
                f"U{person}",
                f"n{person % 9}.example",
                False,
                True,
                visible=person % 20 != 0,
            )
        )
    embeddings = unit_rows(centres[topic_of] + 0.6 * rng.standard_normal((PEOPLE, 48)).astype(np.float32))
    follow_src = rng.integers(0, PEOPLE, 6 * PEOPLE)
    follow_dst = rng.integers(0, PEOPLE, 6 * PEOPLE)
    empty = np.zeros(0, dtype=np.int64)
    rows = np.arange(PEOPLE, dtype=np.int64)
    return Observed(
        actors,
        {person: person for person in range(PEOPLE)},
        follow_src,
        follow_dst,
        empty,
        empty,
        [],
        build_features(documents),
        rows,
        rows.copy(),
        people_embeddings=embeddings,
    )


def test_the_shortlist_finds_what_scoring_everyone_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    observed = _neighbourhood()
    askers = np.random.default_rng(1).choice(PEOPLE, QUERIES, replace=False).tolist()
    exact = {asker: recommendations.similar_people(observed, asker, 10) for asker in askers}
    assert observed.indexes == {}  # below SHORTLIST_FROM: no index, every candidate scored

    monkeypatch.setattr(recommendations, "SHORTLIST_FROM", 500)
    monkeypatch.setattr(recommendations, "SHORTLIST_EACH", 60)
    found = {asker: recommendations.similar_people(observed, asker, 10) for asker in askers}
    assert set(observed.indexes) == {"people"}

    recall = []
    for asker in askers:
        truth = {result.uri: result.score for result in exact[asker]}
        assert len(truth) == 10
        got = {result.uri: result.score for result in found[asker]}
        recall.append(len(truth.keys() & got.keys()) / 10)
        # What both found, they scored alike: the shortlist is scored exactly.
        assert all(got[uri] == pytest.approx(truth[uri], abs=1e-6) for uri in truth.keys() & got.keys())
        hidden = {actor.uri for actor in observed.actors if not actor.visible}
        assert not got.keys() & (hidden | {observed.actors[asker].uri})
    assert np.mean(recall) >= 0.95, recall


async def test_a_large_snapshot_gets_its_index_before_any_query(monkeypatch: pytest.MonkeyPatch) -> None:
    observed = _neighbourhood()
    await recommendations.prepare(observed)
    assert observed.indexes == {}  # small: queries score everyone
    monkeypatch.setattr(recommendations, "SHORTLIST_FROM", 500)
    await recommendations.prepare(observed)
    assert set(observed.indexes) == {"people"}  # built off the event loop, once
    index = observed.indexes["people"]
    recommendations.similar_people(observed, 1, 10)
    assert observed.indexes["people"] is index
