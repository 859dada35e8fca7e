"""Recommendations from the observed graph: similar people, project calls that fit a person or a
team, and the people who fit a project call, each with the reasons that explain it.

Every candidate gets a hybrid score (`analytics/embeddings.hybrid`, weights from `[matching]`)
of four signals, each in [0, 1]:

- tfidf: cosine of the TF-IDF vectors (`analytics/similarity.py`): the same words and skills;
- embedding: cosine of the sentence embeddings (`domain/embeddings.py`): the same meaning in
  other words or another language; absent (and its weight left out) when nothing is embedded;
- skills: overlap of the declared skills (shared / all);
- graph: how many of the people the asker follows also follow the candidate (cosine of the two
  sets), "who in your network follows them".

The reasons say which: the shared skills and terms, "similar topic" when the embedding carried
the score, and who in the asker's network follows the candidate. Only visible actors are offered.

Up to SHORTLIST_FROM candidates, every one is scored. Above it, the hybrid score is computed
over a shortlist: the best SHORTLIST_EACH candidates by each signal, those by embedding found
through an approximate index (`analytics/embeddings.ClusteredIndex`, built once per snapshot),
since scoring every embedding is what grows with the node. A candidate in none of the four
lists would need to be middling on every signal at once to reach the top;
`bench/recommend_scale.py` measures how often the top-10 still matches exact scoring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from talentfed.analytics.embeddings import ClusteredIndex, Hybrid, hybrid, top_k, unit_rows
from talentfed.analytics.features import l2_normalize_rows
from talentfed.analytics.similarity import SharedTerm, explain, team_vector
from talentfed.domain.observed_graph import Observed
from talentfed.storage.models import utcnow

FOLLOWERS_NAMED = 3  # how many of the asker's network a reason names
# "similar topic" needs the embedding to lead the score and to be this close: the model's cosine
# between unrelated profiles sits around 0.2-0.45 (a speech researcher against a database
# engineer: 0.31), so leading alone would say it of nearly everyone in a small neighbourhood.
SIMILAR_TOPIC_MIN = 0.45
SHORTLIST_FROM = 20_000  # candidates above which a query scores a shortlist, not every one
SHORTLIST_EACH = 300  # candidates each signal adds to the shortlist


@dataclass(frozen=True)
class Result:
    uri: str
    title: str
    score: float
    shared_skills: tuple[str, ...]
    shared_terms: tuple[str, ...]
    why: str
    similar_topic: bool = False  # the meaning of the texts carried it, more than their words
    followed_by: tuple[str, ...] = ()  # handles of people the asker follows who follow them


@dataclass(frozen=True)
class _Query:
    """What is asked about: one person, a team, or a project call, as each signal reads it."""

    tfidf: sp.csr_matrix  # 1 × terms, unit length
    embedding: np.ndarray | None  # unit vector, or None when not embedded
    skills: sp.csr_matrix  # 1 × skills, 1 where declared
    network: np.ndarray  # actor rows the asker follows


@dataclass(frozen=True)
class _Side:
    """The candidates: rows of the feature space, their embeddings, their actors."""

    name: str  # "people" or "calls"
    offset: int  # where these rows start in the feature space
    embeddings: np.ndarray | None
    actor_rows: np.ndarray  # the actor row of each candidate (a project call: its author)


def _people(observed: Observed) -> _Side:
    return _Side("people", 0, observed.people_embeddings, observed.people)


def _calls(observed: Observed) -> _Side:
    authors = np.array([project.author_row for project in observed.projects], dtype=np.int64)
    return _Side("calls", len(observed.people), observed.project_embeddings, authors)


def _query(observed: Observed, feature_rows: Sequence[int], side: _Side, asker_rows: Sequence[int]) -> _Query:
    """The query of one or more feature rows (several: a team, by its centroid)."""
    rows = np.asarray(feature_rows, dtype=np.int64)
    tfidf = l2_normalize_rows(team_vector(observed.space.matrix[rows]))
    embedding = None
    if side.embeddings is not None:
        mean = unit_rows(side.embeddings[rows - side.offset]).mean(axis=0)
        embedding = unit_rows(mean)[0] if np.any(mean) else None
    skills = sp.csr_matrix((observed.skill_marks[rows].sum(axis=0) > 0).astype(np.float32))
    network = np.unique(observed.follows[np.asarray(asker_rows, dtype=np.int64)].indices)
    return _Query(tfidf, embedding, skills, network)


def _signals(
    observed: Observed, query: _Query, side: _Side, chosen: np.ndarray, *, embedding: bool = True
) -> dict[str, np.ndarray]:
    rows = chosen + side.offset
    terms = query.tfidf.toarray().ravel()
    signals = {"tfidf": _product(observed.unit_matrix, rows, terms)}
    if embedding and query.embedding is not None and side.embeddings is not None:
        signals["embedding"] = side.embeddings[chosen] @ query.embedding  # unit rows (observed_graph)
    shared = _product(observed.skill_marks, rows, query.skills.toarray().ravel())
    union = observed.skill_counts[rows] + query.skills.sum() - shared
    signals["skills"] = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    signals["graph"] = _network_overlap(observed, query.network, side.actor_rows[chosen])
    return signals


def _product(matrix: sp.csr_matrix, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """(matrix @ vector)[rows], the cheaper way: cutting a few rows out first, or else one
    product over every row (a copy of most of a large matrix costs more than the product)."""
    if 4 * len(rows) < matrix.shape[0]:
        cut: np.ndarray = np.asarray(matrix[rows] @ vector, dtype=np.float64).ravel()
        return cut
    every: np.ndarray = np.asarray(matrix @ vector, dtype=np.float64).ravel()[rows]
    return every


def _network_overlap(observed: Observed, network: np.ndarray, actor_rows: np.ndarray) -> np.ndarray:
    """|followers(c) ∩ network| / √(|followers(c)| · |network|) for each candidate c."""
    if len(network) == 0:
        return np.zeros(len(actor_rows))
    mine = np.zeros(observed.n, dtype=np.float32)
    mine[network] = 1
    shared = _product(observed.followers, actor_rows, mine)
    sizes = observed.follower_counts[actor_rows] * len(network)
    overlap: np.ndarray = np.divide(shared, np.sqrt(sizes), out=np.zeros(len(actor_rows)), where=sizes > 0)
    return overlap


class _Found(NamedTuple):
    candidate: int  # index among the side's candidates (people, or project calls)
    score: float
    similar_topic: bool
    followed_by: tuple[str, ...]


def _weights_for(observed: Observed, signals: dict[str, np.ndarray]) -> Hybrid:
    absent = {"embedding"} - set(signals)
    return hybrid(signals, observed.weights.without(absent))


def _ranked(
    observed: Observed, query: _Query, side: _Side, allowed: Sequence[int] | np.ndarray, k: int, offset: int
) -> list[_Found]:
    """The best k candidates after `offset`."""
    chosen = np.asarray(allowed, dtype=np.int64)
    if len(chosen) == 0:
        return []
    if len(chosen) > SHORTLIST_FROM:
        chosen = _shortlist(observed, query, side, chosen, k + offset)
    signals = _signals(observed, query, side, chosen)
    scored = _weights_for(observed, signals)
    best = [int(i) for i in top_k(scored.scores, k + offset) if scored.scores[i] > 0][offset:]
    return [
        _Found(
            int(chosen[i]),
            float(scored.scores[i]),
            scored.leader(i) == "embedding" and float(signals["embedding"][i]) >= SIMILAR_TOPIC_MIN,
            _followed_by(observed, query.network, int(side.actor_rows[chosen[i]])),
        )
        for i in best
    ]


def _shortlist(observed: Observed, query: _Query, side: _Side, chosen: np.ndarray, wanted: int) -> np.ndarray:
    """The candidates worth a full score: the best SHORTLIST_EACH (or `wanted`) by TF-IDF, by
    skills and by the asker's network, scored over every candidate (sparse, cheap), and by
    embedding, through the approximate index."""
    each = max(SHORTLIST_EACH, wanted)
    cheap = _signals(observed, query, side, chosen, embedding=False)
    picks = [chosen[top_k(values, each)] for values in cheap.values()]
    if query.embedding is not None and side.embeddings is not None:
        allowed = np.zeros(len(side.embeddings), dtype=bool)
        allowed[chosen] = True
        # Twice as many as kept: some of the nearest are not candidates (hidden, the asker).
        nearest = embedding_index(observed, side).search(query.embedding, 2 * each)
        found = np.array([item for item, _ in nearest], dtype=np.int64)
        picks.append(found[allowed[found]][:each])
    return np.unique(np.concatenate(picks)).astype(np.int64)


async def prepare(observed: Observed) -> None:
    """Build the indexes a large snapshot's queries will use, in a thread: seconds at 100k
    items, which a request must not wait for on the event loop."""
    for side in (_people(observed), _calls(observed)):
        if side.embeddings is not None and len(side.embeddings) > SHORTLIST_FROM:
            await asyncio.to_thread(embedding_index, observed, side)


def embedding_index(observed: Observed, side: _Side) -> ClusteredIndex:
    """The approximate index of a side's embeddings, built on first use and kept with the
    snapshot (2·√n lists, the size bench/semantic.py measured)."""
    assert side.embeddings is not None
    index = observed.indexes.get(side.name)
    if index is None:
        lists = max(16, int(2 * np.sqrt(len(side.embeddings))))
        index = observed.indexes[side.name] = ClusteredIndex(side.embeddings, lists=lists)
    return index


def _followed_by(observed: Observed, network: np.ndarray, actor_row: int) -> tuple[str, ...]:
    followers = observed.followers[actor_row].indices
    shared = np.intersect1d(followers, network)
    visible = [observed.actors[row].handle for row in shared.tolist() if observed.actors[row].visible]
    return tuple(visible[:FOLLOWERS_NAMED])


def _result(
    observed: Observed, uri: str, title: str, query: _Query, feature_row: int, found: _Found
) -> Result:
    item = observed.space.matrix[feature_row]
    shared = explain(query.tfidf, item, observed.space.vocabulary, observed.space.is_skill)
    skills = tuple(term.term for term in shared if term.is_skill)
    terms = tuple(term.term for term in shared if not term.is_skill)
    why = describe(shared, found.similar_topic, found.followed_by)
    return Result(
        uri, title, round(found.score, 6), skills, terms, why, found.similar_topic, found.followed_by
    )


def describe(shared: Sequence[SharedTerm], similar_topic: bool, followed_by: Sequence[str]) -> str:
    """A line a person can read: 'shared skills: a, b; shared terms: c; similar topic;
    followed by @x in your network'."""
    skills = [term.term for term in shared if term.is_skill]
    words = [term.term for term in shared if not term.is_skill]
    parts = [f"shared skills: {', '.join(skills)}"] if skills else []
    parts += [f"shared terms: {', '.join(words)}"] if words else []
    parts += ["similar topic"] if similar_topic else []
    parts += [f"followed by {', '.join(followed_by)} in your network"] if followed_by else []
    return "; ".join(parts) or "nothing shared"


def similar_people(
    observed: Observed, actor_row: int, k: int = 10, *, other_institutions: bool = False, offset: int = 0
) -> list[Result]:
    people = observed.people
    offered = observed.visible[people] & (people != actor_row)
    if other_institutions:
        offered &= observed.domains[people] != observed.actors[actor_row].domain
    allowed = np.flatnonzero(offered)
    if not len(allowed) or observed.person_rows[actor_row] < 0:
        return []
    side = _people(observed)
    query = _query(observed, [int(observed.person_rows[actor_row])], side, [actor_row])
    return [
        _result(observed, observed.actors[people[i]].uri, observed.actors[people[i]].name, query, i, found)
        for found in _ranked(observed, query, side, allowed, k, offset)
        for i in [found.candidate]
    ]


def _open_projects(observed: Observed, now: datetime) -> list[int]:
    return [
        index
        for index, project in enumerate(observed.projects)
        if (project.status or "open") == "open"
        and (project.deadline is None or project.deadline >= now)
        and observed.actors[project.author_row].visible
    ]


def matching_projects(
    observed: Observed, actor_rows: Sequence[int], k: int = 10, *, offset: int = 0
) -> list[Result]:
    """Open project calls that fit a person, or a team (several people) — their centroid."""
    rows = [row for row in actor_rows if observed.person_rows[row] >= 0]
    allowed = [
        index
        for index in _open_projects(observed, utcnow())
        if observed.projects[index].author_row not in actor_rows
    ]
    if not rows or not allowed:
        return []
    feature_rows = [int(observed.person_rows[row]) for row in rows]
    # The query is people, the candidates calls: the people's embeddings sit in the people side.
    query = _query(observed, feature_rows, _people(observed), rows)
    side = _calls(observed)
    return [
        _result(
            observed,
            observed.projects[i].uri,
            observed.projects[i].title,
            query,
            side.offset + i,
            found,
        )
        for found in _ranked(observed, query, side, allowed, k, offset)
        for i in [found.candidate]
    ]


def candidates(observed: Observed, project_index: int, k: int = 10, *, offset: int = 0) -> list[Result]:
    """The people whose skills and work fit a project call best (its author excluded)."""
    project = observed.projects[project_index]
    people = observed.people
    allowed = np.flatnonzero(observed.visible[people] & (people != project.author_row))
    if not len(allowed):
        return []
    calls = _calls(observed)
    query = _query(observed, [calls.offset + project_index], calls, [project.author_row])
    return [
        _result(observed, observed.actors[people[i]].uri, observed.actors[people[i]].name, query, i, found)
        for found in _ranked(observed, query, _people(observed), allowed, k, offset)
        for i in [found.candidate]
    ]
