"""The observed graph as arrays: what analytics read, loaded from what this node has observed.

`load_observed` reads actors, follows, interactions and every person's and project call's text
into one `Observed` snapshot; recommendations (`domain/recommendations.py`) and the ranking
(`domain/ranking.py`) are computed from it, locally, from public data, with nothing sent anywhere.
Privacy: an actor that is not both `discoverable` and `indexable` (a missing value counts as
false, as in Mastodon), or that is on a blocked domain, is marked not `visible` and never appears
in a ranking, a recommendation or a search result; its follows still count, in aggregate, in
other actors' degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics.embeddings import ClusteredIndex, Weights, unit_rows
from talentfed.analytics.features import Document, FeatureSpace, build_features, l2_normalize_rows
from talentfed.config import Config, MatchingConfig
from talentfed.domain.embeddings import PERSON_TYPES as PERSON_TYPES
from talentfed.domain.embeddings import StoredVectors, stored_vectors
from talentfed.domain.visibility import ANONYMOUS, actor_listed, on_open_post, readable_by
from talentfed.federation.blocks import DomainPolicies, domain_policies
from talentfed.offload import cpu_bound
from talentfed.storage.models import Actor, Follow, Interaction, Object, utcnow

OWN_POST_KINDS = ("article", "question", "answer", "note")
OWN_POST_WEIGHT = 0.5
OWN_POSTS_PER_PERSON = 50


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
    # Sentence embeddings (domain/embeddings.py) in the rows of `people` and `projects`, at unit
    # length; None when nothing is embedded (no `semantic` extra). A row without one is all zeros.
    people_embeddings: np.ndarray | None = None
    project_embeddings: np.ndarray | None = None
    weights: Weights = field(default_factory=Weights)
    # Approximate indexes of the embeddings, by side ("people", "calls"), built on first use
    # by a large node's recommendations (domain/recommendations.py).
    indexes: dict[str, ClusteredIndex] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.actors)

    def person_vector(self, actor_row: int) -> sp.csr_matrix:
        return self.space.matrix[int(self.person_rows[actor_row])]

    def project_vector(self, index: int) -> sp.csr_matrix:
        return self.space.matrix[len(self.people) + index]

    @cached_property
    def follows(self) -> sp.csr_matrix:
        """n × n: [a, b] = 1 when a follows b."""
        ones = np.ones(len(self.follow_src), dtype=np.float32)
        return sp.csr_matrix((ones, (self.follow_src, self.follow_dst)), shape=(self.n, self.n))

    @cached_property
    def followers(self) -> sp.csr_matrix:
        """n × n: [b, a] = 1 when a follows b (row b lists b's followers)."""
        return sp.csr_matrix(self.follows.T)

    @cached_property
    def skill_marks(self) -> sp.csr_matrix:
        """Feature rows × skills: 1 where the person or project call declares the skill."""
        marks = sp.csr_matrix(self.space.matrix[:, np.flatnonzero(self.space.is_skill)], dtype=np.float32)
        marks.data = np.ones_like(marks.data)  # stored entries are the declared skills
        return marks

    @cached_property
    def skill_counts(self) -> np.ndarray:
        """How many skills each feature row declares."""
        return np.asarray(self.skill_marks.sum(axis=1), dtype=np.float64).ravel()

    @cached_property
    def follower_counts(self) -> np.ndarray:
        """How many followers each actor row has."""
        return np.asarray(self.followers.sum(axis=1), dtype=np.float64).ravel()

    @cached_property
    def unit_matrix(self) -> sp.csr_matrix:
        """The feature rows at unit length: a TF-IDF cosine is the product of two of them."""
        return l2_normalize_rows(self.space.matrix)

    @cached_property
    def visible(self) -> np.ndarray:
        """Per actor row: may it appear in rankings and results."""
        return np.array([actor.visible for actor in self.actors], dtype=bool)

    @cached_property
    def domains(self) -> np.ndarray:
        """Per actor row: its domain."""
        return np.array([actor.domain for actor in self.actors], dtype=object)

    @property
    def people_matrix(self) -> sp.csr_matrix:
        return self.space.matrix[: len(self.people)]

    @property
    def project_matrix(self) -> sp.csr_matrix:
        return self.space.matrix[len(self.people) :]


# --- loading ---------------------------------------------------------------------------------


async def load_observed(session: AsyncSession, config: Config) -> Observed:
    blocked = await domain_policies(session, config)
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
    documents = [_person_document(actor, [text for _, text in texts.get(actor.id, [])]) for actor in people]
    projects = await _projects(session, row_of)
    vectors = await stored_vectors(session)
    documents += [Document(skills=p.skills, texts=[(p.title, 1.0), (p.description, 1.0)]) for p in projects]
    # Tokenising every text is pure Python: in another process on a large node (talentfed/offload.py).
    texts_in_all = sum(len(document.texts) for document in documents)
    space = await cpu_bound(build_features, documents, items=texts_in_all)
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
        people_embeddings=None if vectors.empty else unit_rows(_people_embeddings(people, texts, vectors)),
        project_embeddings=None if vectors.empty else unit_rows(_project_embeddings(projects, vectors)),
        weights=matching_weights(config.matching),
    )


def matching_weights(matching: MatchingConfig) -> Weights:
    return Weights(
        matching.tfidf_weight, matching.embedding_weight, matching.skills_weight, matching.graph_weight
    )


def _people_embeddings(
    people: list[Actor], texts: dict[int, list[tuple[int, str]]], vectors: StoredVectors
) -> np.ndarray:
    """A person's embedding: their profile's, plus their recent posts' mean at the weight their
    posts have in TF-IDF (`OWN_POST_WEIGHT`), so both signals read the same material."""
    width = _width(vectors)
    matrix = np.zeros((len(people), width), dtype=np.float32)
    for row, actor in enumerate(people):
        profile = vectors.actors.get(actor.id)
        posts = [vectors.objects[i] for i, _ in texts.get(actor.id, []) if i in vectors.objects]
        if profile is not None:
            matrix[row] += profile
        if posts:
            matrix[row] += OWN_POST_WEIGHT * np.mean(posts, axis=0)
    return matrix


def _project_embeddings(projects: list[_Project], vectors: StoredVectors) -> np.ndarray:
    matrix = np.zeros((len(projects), _width(vectors)), dtype=np.float32)
    for row, project in enumerate(projects):
        if project.info.id in vectors.objects:
            matrix[row] = vectors.objects[project.info.id]
    return matrix


def _width(vectors: StoredVectors) -> int:
    first = next(iter(vectors.actors.values()), None)
    first = first if first is not None else next(iter(vectors.objects.values()))
    return int(first.shape[0])


def _info(actor: Actor, blocked: DomainPolicies) -> ActorInfo:
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


async def _own_texts(session: AsyncSession, author_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """Each person's own recent articles, questions, answers and notes: (post id, text)."""
    ranked = (
        select(
            Object.id,
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
    texts: dict[int, list[tuple[int, str]]] = {}
    query = select(ranked.c.id, ranked.c.author_id, ranked.c.name, ranked.c.content).where(
        ranked.c.rank <= OWN_POSTS_PER_PERSON
    )
    for post_id, author_id, name, content in await session.execute(query):
        texts.setdefault(author_id, []).append((post_id, f"{name or ''} {content or ''}"))
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
