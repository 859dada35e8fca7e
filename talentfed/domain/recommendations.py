"""Recommendations from the observed graph: similar people, project calls that fit a person or a
team, and the people who fit a project call, each with the shared skills and terms that explain
it. The similarity itself is `analytics/similarity.py`; only visible actors are offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import scipy.sparse as sp

from talentfed.analytics.similarity import Match, SimilarityIndex
from talentfed.domain.observed_graph import Observed
from talentfed.storage.models import utcnow


@dataclass(frozen=True)
class Result:
    uri: str
    title: str
    score: float
    shared_skills: tuple[str, ...]
    shared_terms: tuple[str, ...]
    why: str


def _result(uri: str, title: str, match: Match) -> Result:
    skills = tuple(term.term for term in match.shared if term.is_skill)
    terms = tuple(term.term for term in match.shared if not term.is_skill)
    return Result(uri, title, round(float(match.score), 6), skills, terms, match.describe())


def _people_index(observed: Observed) -> SimilarityIndex:
    return SimilarityIndex(
        observed.people_matrix, vocabulary=observed.space.vocabulary, is_skill=observed.space.is_skill
    )


def _project_index(observed: Observed) -> SimilarityIndex:
    return SimilarityIndex(
        observed.project_matrix, vocabulary=observed.space.vocabulary, is_skill=observed.space.is_skill
    )


def similar_people(
    observed: Observed, actor_row: int, k: int = 10, *, other_institutions: bool = False, offset: int = 0
) -> list[Result]:
    people = observed.people.tolist()
    me = observed.actors[actor_row]
    allowed = [
        index
        for index, row in enumerate(people)
        if observed.actors[row].visible
        and row != actor_row
        and not (other_institutions and observed.actors[row].domain == me.domain)
    ]
    if not allowed or observed.person_rows[actor_row] < 0:
        return []
    matches = _people_index(observed).search(observed.person_vector(actor_row), k + offset, allowed=allowed)
    found = [
        _result(observed.actors[people[m.index]].uri, observed.actors[people[m.index]].name, m)
        for m in matches
        if m.score > 0
    ]
    return found[offset:]


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
    vectors = sp.vstack([observed.person_vector(row) for row in rows])
    index = _project_index(observed)
    matches = (
        index.search_team(vectors, k + offset, allowed=allowed)
        if len(rows) > 1
        else index.search(vectors, k + offset, allowed=allowed)
    )
    return [
        _result(observed.projects[m.index].uri, observed.projects[m.index].title, m)
        for m in matches
        if m.score > 0
    ][offset:]


def candidates(observed: Observed, project_index: int, k: int = 10, *, offset: int = 0) -> list[Result]:
    """The people whose skills and work fit a project call best (its author excluded)."""
    project = observed.projects[project_index]
    people = observed.people.tolist()
    allowed = [
        i for i, row in enumerate(people) if observed.actors[row].visible and row != project.author_row
    ]
    if not allowed:
        return []
    vector = observed.project_vector(project_index)
    matches = _people_index(observed).search(vector, k + offset, allowed=allowed)
    return [
        _result(observed.actors[people[m.index]].uri, observed.actors[people[m.index]].name, m)
        for m in matches
        if m.score > 0
    ][offset:]
