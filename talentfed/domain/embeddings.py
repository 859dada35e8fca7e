"""Which profiles and posts are embedded, when, and reading the stored vectors back.

The worker (`jobs/analytics_refresh.py`) calls `refresh` before each check: it embeds what is
new or changed since the last call and nothing else. A stored embedding carries a SHA-256 of
the exact text it was made from (and the model's name); text whose hash and model match is
skipped, so an unchanged profile is never embedded twice.

Privacy is decided here as everywhere in the analytics: only actors that may be listed
(`discoverable` and `indexable`, not on a blocked domain: `visibility.actor_listed`) are
embedded, with their posts that anyone may read. When an actor opts out, a post stops being
public or is deleted, its stored embedding is deleted at the next refresh.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.analytics.embedders import MAX_CHARS, Embedder, load_embedder
from talentfed.analytics.embeddings import from_bytes, to_bytes
from talentfed.config import Config
from talentfed.domain.visibility import ANONYMOUS, actor_listed, readable_by
from talentfed.federation.blocks import domain_policies
from talentfed.storage.models import Actor, Embedding, Object, utcnow
from talentfed.text import html_to_excerpt

PERSON_TYPES = ("Person",)
EMBEDDED_POST_KINDS = ("article", "question", "answer", "note", "project")


@dataclass(frozen=True)
class Subject:
    """One thing to embed: an actor's profile or a post, and its text."""

    actor_id: int | None
    object_id: int | None
    text: str

    @property
    def key(self) -> tuple[str, int]:
        return ("actor", self.actor_id) if self.actor_id is not None else ("object", self.object_id or 0)

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Refreshed:
    embedded: int  # texts sent through the model
    unchanged: int  # skipped: the same text was embedded before, by the same model
    forgotten: int  # embeddings deleted: opted out, deleted, or no longer public


def profile_text(actor: Actor) -> str:
    """What a person says about themself: skills, headline, bio, department."""
    skills = ", ".join(actor.skills or ())
    parts = [skills, actor.headline, html_to_text(actor.summary), actor.department]
    return ". ".join(part.strip() for part in parts if part and part.strip())


def post_text(post: Object) -> str:
    skills = ", ".join(post.skills or ())
    parts = [post.name, skills, html_to_text(post.content)]
    return ". ".join(part.strip() for part in parts if part and part.strip())


def html_to_text(html: str | None) -> str:
    return html_to_excerpt(html, MAX_CHARS)


def embedder_for(config: Config) -> Embedder | None:
    """The local model, unless `[matching] semantic` is off or the extra is not installed."""
    return load_embedder() if config.matching.semantic else None


async def subjects(session: AsyncSession, config: Config) -> list[Subject]:
    """Everything the opt-outs allow to be embedded, with its current text."""
    policies = await domain_policies(session, config)
    actors = (await session.execute(select(Actor).where(Actor.type.in_(PERSON_TYPES)))).scalars().all()
    listed = {actor.id for actor in actors if actor_listed(actor, policies)}
    found = [Subject(actor.id, None, profile_text(actor)) for actor in actors if actor.id in listed]
    posts = await session.execute(
        select(Object).where(
            Object.kind.in_(EMBEDDED_POST_KINDS), Object.deleted_at.is_(None), readable_by(ANONYMOUS)
        )
    )
    found += [Subject(None, post.id, post_text(post)) for post in posts.scalars() if post.author_id in listed]
    return [subject for subject in found if subject.text]


@dataclass(frozen=True)
class Plan:
    """What a refresh has to do: texts to embed, how many are current, embeddings to forget."""

    stale: list[Subject]
    unchanged: int
    gone: list[int]  # ids of `embeddings` rows

    def batches(self, size: int) -> list[list[Subject]]:
        return [self.stale[start : start + size] for start in range(0, len(self.stale), size)]


async def plan(session: AsyncSession, config: Config, model: str) -> Plan:
    """Compare what may be embedded now with what is stored (reads only)."""
    wanted = {subject.key: subject for subject in await subjects(session, config)}
    rows = await session.execute(
        select(Embedding.id, Embedding.actor_id, Embedding.object_id, Embedding.text_hash, Embedding.model)
    )
    stored = {
        _key(actor_id, object_id): (row_id, text_hash, made_by)
        for row_id, actor_id, object_id, text_hash, made_by in rows
    }
    gone = [row_id for key, (row_id, _, _) in stored.items() if key not in wanted]
    stale = [
        subject
        for key, subject in wanted.items()
        if key not in stored or stored[key][1:] != (subject.text_hash, model)
    ]
    return Plan(stale, len(wanted) - len(stale), gone)


async def forget(session: AsyncSession, gone: list[int]) -> None:
    if gone:
        await session.execute(delete(Embedding).where(Embedding.id.in_(gone)))


async def embed_batch(embedder: Embedder, batch: list[Subject]) -> NDArray[np.float32]:
    # CPU-bound: off the event loop, so a worker's other jobs keep running meanwhile.
    return await asyncio.to_thread(embedder.embed, [subject.text for subject in batch])


async def store(
    session: AsyncSession, batch: list[Subject], vectors: NDArray[np.floating], model: str
) -> None:
    """Write a batch's embeddings, over the rows they replace."""
    actor_ids = [subject.actor_id for subject in batch if subject.actor_id is not None]
    object_ids = [subject.object_id for subject in batch if subject.object_id is not None]
    existing = await session.execute(
        select(Embedding).where(or_(Embedding.actor_id.in_(actor_ids), Embedding.object_id.in_(object_ids)))
    )
    rows = {_key(row.actor_id, row.object_id): row for row in existing.scalars()}
    for subject, vector in zip(batch, vectors, strict=True):
        row = rows.get(subject.key)
        if row is None:
            row = Embedding(actor_id=subject.actor_id, object_id=subject.object_id)
            session.add(row)
        codes, scale = to_bytes(vector)
        row.model, row.text_hash, row.codes, row.scale = model, subject.text_hash, codes, scale
        row.computed_at = utcnow()
    await session.flush()


async def refresh(session: AsyncSession, config: Config, embedder: Embedder) -> Refreshed:
    """Embed the new and changed texts and forget what may no longer be embedded, in the caller's
    transaction (the CLI's; the worker commits batch by batch instead: jobs/analytics_refresh.py)."""
    todo = await plan(session, config, embedder.name)
    await forget(session, todo.gone)
    for batch in todo.batches(config.matching.embed_batch):
        await store(session, batch, await embed_batch(embedder, batch), embedder.name)
    return Refreshed(len(todo.stale), todo.unchanged, len(todo.gone))


def _key(actor_id: int | None, object_id: int | None) -> tuple[str, int]:
    return ("actor", actor_id) if actor_id is not None else ("object", object_id or 0)


@dataclass(frozen=True)
class StoredVectors:
    """The stored embeddings of one model, by actor id and by post id."""

    actors: dict[int, NDArray[np.float32]]
    objects: dict[int, NDArray[np.float32]]

    @property
    def empty(self) -> bool:
        return not self.actors and not self.objects


async def stored_vectors(session: AsyncSession, model: str | None = None) -> StoredVectors:
    """Every stored embedding (of `model`, or of the model most of them were made by)."""
    rows = (await session.execute(select(Embedding))).all()
    embeddings = [row[0] for row in rows]
    if model is None:
        model = _most_common(row.model for row in embeddings)
    actors: dict[int, NDArray[np.float32]] = {}
    objects: dict[int, NDArray[np.float32]] = {}
    for row in embeddings:
        if row.model != model:
            continue
        vector = from_bytes(row.codes, row.scale)
        if row.actor_id is not None:
            actors[row.actor_id] = vector
        elif row.object_id is not None:
            objects[row.object_id] = vector
    return StoredVectors(actors, objects)


def _most_common(models: Iterable[str]) -> str | None:
    counts: dict[str, int] = {}
    for model in models:
        counts[model] = counts.get(model, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else None
