"""Discovery over what this node has observed: similar people, fitting project calls, candidates,
influence — computed locally from public data, with nothing sent anywhere.

`load_observed` reads the observed graph and every person's and project call's text into arrays;
the computation itself is `talentfed.analytics` (numpy/scipy). Privacy: an actor that is not
both `discoverable` and `indexable` (a missing value counts as false, as in Mastodon), or that is
on a blocked domain, never appears in a ranking, a recommendation or a search result; its
follows still count, in aggregate, in other actors' degrees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics.features import Document, FeatureSpace, build_features, skill_term
from talentfed.analytics.influence import influence
from talentfed.analytics.pagerank import pagerank
from talentfed.analytics.similarity import Match, SimilarityIndex
from talentfed.config import Config
from talentfed.domain.visibility import ANONYMOUS, actor_listed, on_open_post, readable_by
from talentfed.federation.blocks import blocked_domains
from talentfed.storage.models import (
    Actor,
    ActorScore,
    AnalyticsRun,
    Follow,
    Interaction,
    Object,
    Recommendation,
    utcnow,
)
from talentfed.text import normalize_skill

PERSON_TYPES = ("Person",)
OWN_POST_KINDS = ("article", "question", "answer", "note")
OWN_POST_WEIGHT = 0.5
OWN_POSTS_PER_PERSON = 50
TOP_K_STORED = 20


@dataclass(frozen=True)
class ActorInfo:
    id: int
    uri: str
    handle: str
    name: str
    domain: str
    local: bool
    person: bool
    visible: bool  # may appear in rankings and results


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    uri: str
    title: str
    author_row: int
    status: str | None
    deadline: datetime | None
    skills: tuple[str, ...]


@dataclass
class Observed:
    """A snapshot of the observed graph and the shared feature space of people and projects."""

    actors: list[ActorInfo]
    row_of: dict[int, int]  # actor id → row
    follow_src: np.ndarray
    follow_dst: np.ndarray
    interaction_src: np.ndarray
    interaction_dst: np.ndarray
    projects: list[ProjectInfo]
    space: FeatureSpace
    people: np.ndarray  # actor row of each person, in feature-row order (projects follow them)
    person_rows: np.ndarray  # feature row of each actor row, -1 for non-persons
    computed_at: datetime = field(default_factory=utcnow)

    @property
    def n(self) -> int:
        return len(self.actors)

    def person_vector(self, actor_row: int) -> sp.csr_matrix:
        return self.space.matrix[int(self.person_rows[actor_row])]

    def project_vector(self, index: int) -> sp.csr_matrix:
        return self.space.matrix[len(self.people) + index]

    @property
    def people_matrix(self) -> sp.csr_matrix:
        return self.space.matrix[: len(self.people)]

    @property
    def project_matrix(self) -> sp.csr_matrix:
        return self.space.matrix[len(self.people) :]


# --- loading ---------------------------------------------------------------------------------


async def load_observed(session: AsyncSession, config: Config) -> Observed:
    blocked = await blocked_domains(session, config)
    rows = (await session.execute(select(Actor).order_by(Actor.id))).scalars().all()
    actors = [_info(actor, blocked) for actor in rows]
    row_of = {info.id: index for index, info in enumerate(actors)}
    follow_src, follow_dst = await _edges(
        session, select(Follow.follower_id, Follow.followed_id).where(Follow.state == "accepted"), row_of
    )
    interaction_src, interaction_dst = await _edges(
        session,
        select(Interaction.actor_id, Interaction.target_actor_id).where(
            Interaction.target_actor_id.is_not(None), on_open_post()
        ),
        row_of,
    )
    people = [actor for actor in rows if actor.type in PERSON_TYPES]
    texts = await _own_texts(session, [p.id for p in people])
    documents = [_person_document(actor, texts.get(actor.id, [])) for actor in people]
    projects = await _projects(session, row_of)
    documents += [Document(skills=p.skills, texts=[(p.title, 1.0), (p.description, 1.0)]) for p in projects]
    space = build_features(documents)
    people_rows = np.array([row_of[actor.id] for actor in people], dtype=np.int64)
    person_rows = np.full(len(actors), -1, dtype=np.int64)
    person_rows[people_rows] = np.arange(len(people_rows))
    return Observed(
        actors,
        row_of,
        follow_src,
        follow_dst,
        interaction_src,
        interaction_dst,
        [p.info for p in projects],
        space,
        people_rows,
        person_rows,
    )


def _info(actor: Actor, blocked: frozenset[str]) -> ActorInfo:
    visible = actor_listed(actor, blocked)
    return ActorInfo(
        actor.id,
        actor.uri,
        f"@{actor.handle}",
        actor.display_name or actor.username,
        actor.domain,
        actor.local,
        actor.type in PERSON_TYPES,
        visible,
    )


async def _edges(
    session: AsyncSession, query: Select[*tuple[Any, ...]], row_of: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    pairs = np.array(
        [(row_of[a], row_of[b]) for a, b in await session.execute(query) if a in row_of and b in row_of],
        dtype=np.int64,
    ).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


async def _own_texts(session: AsyncSession, author_ids: list[int]) -> dict[int, list[str]]:
    """The text of each person's own recent articles, questions, answers and notes."""
    ranked = (
        select(
            Object.author_id,
            Object.name,
            Object.content,
            func.row_number()
            .over(partition_by=Object.author_id, order_by=Object.published.desc())
            .label("rank"),
        )
        .where(
            Object.author_id.in_(author_ids),
            Object.kind.in_(OWN_POST_KINDS),
            Object.deleted_at.is_(None),
            readable_by(ANONYMOUS),  # what anyone may read
        )
        .subquery()
    )
    texts: dict[int, list[str]] = {}
    query = select(ranked.c.author_id, ranked.c.name, ranked.c.content).where(
        ranked.c.rank <= OWN_POSTS_PER_PERSON
    )
    for author_id, name, content in await session.execute(query):
        texts.setdefault(author_id, []).append(f"{name or ''} {content or ''}")
    return texts


def _person_document(actor: Actor, own_texts: list[str]) -> Document:
    profile = " ".join(filter(None, [actor.headline, actor.summary, actor.department]))
    texts = [(profile, 1.0)] + [(text, OWN_POST_WEIGHT) for text in own_texts]
    return Document(skills=tuple(actor.skills or ()), texts=texts)


@dataclass(frozen=True)
class _Project:
    info: ProjectInfo
    description: str

    @property
    def skills(self) -> tuple[str, ...]:
        return self.info.skills

    @property
    def title(self) -> str:
        return self.info.title


async def _projects(session: AsyncSession, row_of: dict[int, int]) -> list[_Project]:
    query = (
        select(Object)
        .where(
            Object.kind == "project",
            Object.deleted_at.is_(None),
            readable_by(ANONYMOUS),  # what anyone may read
        )
        .order_by(Object.id)
    )
    found = []
    for post in (await session.execute(query)).scalars():
        if post.author_id in row_of:
            info = ProjectInfo(
                post.id,
                post.uri,
                post.name or "",
                row_of[post.author_id],
                post.status,
                post.deadline,
                tuple(post.skills or ()),
            )
            found.append(_Project(info, post.content or ""))
    return found


# --- queries --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Ranked:
    uri: str
    handle: str
    name: str
    influence: float
    pagerank: float


def scores(observed: Observed, skill: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Influence and PageRank of every actor row, optionally on the sub-graph of a skill."""
    subset = None if skill is None else skill_members(observed, skill)
    weights_src = np.concatenate([observed.follow_src, observed.interaction_src])
    weights_dst = np.concatenate([observed.follow_dst, observed.interaction_dst])
    inf = influence(observed.follow_src, observed.follow_dst, observed.n, subset=subset)
    rank = pagerank(weights_src, weights_dst, observed.n, subset=subset).scores
    return inf, rank


def skill_members(observed: Observed, skill: str) -> np.ndarray:
    """Actor rows whose feature vector carries the skill."""
    mask = np.zeros(observed.n, dtype=bool)
    column = observed.space.term_index.get(skill_term(normalize_skill(skill)))
    if column is None:
        return mask
    people = observed.people.tolist()
    carriers = observed.people_matrix[:, column].nonzero()[0]
    mask[[people[i] for i in carriers]] = True
    return mask


def ranking(
    observed: Observed,
    *,
    skill: str | None = None,
    measure: str = "influence",
    current_influence: np.ndarray | None = None,
) -> list[Ranked]:
    """Visible people by influence or PageRank. `current_influence` (per actor row, possibly
    longer) replaces the snapshot's whole-graph influence when new follows have been applied
    since (`live_influence`); a skill's sub-graph is always the snapshot's."""
    inf, rank = scores(observed, skill)
    if current_influence is not None and skill is None:
        inf = current_influence[: observed.n]
    order = np.argsort(-(inf if measure == "influence" else rank), kind="stable")
    members = skill_members(observed, skill) if skill else np.ones(observed.n, dtype=bool)
    return [
        Ranked(a.uri, a.handle, a.name, float(inf[i]), float(rank[i]))
        for i in order.tolist()
        for a in [observed.actors[i]]
        if a.visible and a.person and members[i]
    ]


# --- the stored run -------------------------------------------------------------------------


async def run_analytics(
    session: AsyncSession, config: Config, progress: Callable[[str], None] | None = None
) -> AnalyticsRun:
    """Recompute everything and store it with its computed_at (scores, and members' recommendations)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    say("loading the observed graph")
    observed = await load_observed(session, config)
    say(f"{observed.n} actors, {len(observed.follow_src)} follows, {len(observed.projects)} project calls")
    inf, rank = scores(observed)
    now = observed.computed_at
    await session.execute(delete(ActorScore))
    session.add_all(
        [
            ActorScore(actor_id=a.id, influence=float(inf[i]), pagerank=float(rank[i]), computed_at=now)
            for i, a in enumerate(observed.actors)
        ]
    )
    say("influence and PageRank stored")
    await session.execute(delete(Recommendation))
    members = [i for i, a in enumerate(observed.actors) if a.local and a.person]
    for done, row in enumerate(members, start=1):
        for kind, results in (
            ("person", similar_people(observed, row, TOP_K_STORED, other_institutions=True)),
            ("project", matching_projects(observed, [row], TOP_K_STORED)),
        ):
            session.add_all(
                [
                    Recommendation(
                        actor_id=observed.actors[row].id,
                        kind=kind,
                        rank=position,
                        target_uri=r.uri,
                        score=r.score,
                        computed_at=now,
                        shared=[{"skills": list(r.shared_skills), "terms": list(r.shared_terms)}],
                    )
                    for position, r in enumerate(results)
                ]
            )
        say(f"recommendations: {done}/{len(members)} members")
    run = AnalyticsRun(
        computed_at=now,
        actors=observed.n,
        edges=len(observed.follow_src) + len(observed.interaction_src),
        projects=len(observed.projects),
        seconds=time.perf_counter() - started,
    )
    session.add(run)
    await session.flush()
    return run


async def latest_run(session: AsyncSession) -> AnalyticsRun | None:
    return await session.scalar(select(AnalyticsRun).order_by(AnalyticsRun.computed_at.desc()).limit(1))


async def new_edges_since(session: AsyncSession, moment: datetime) -> int:
    follows = await session.scalar(select(func.count()).select_from(Follow).where(Follow.created_at > moment))
    interactions = await session.scalar(
        select(func.count()).select_from(Interaction).where(Interaction.created_at > moment)
    )
    return int(follows or 0) + int(interactions or 0)
