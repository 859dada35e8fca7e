"""A member's neighbourhood in the observed graph: whom they follow, who follows them, whom they
interacted with — and how those people are connected among themselves.

`load_neighbourhood` reads it for one actor as plain, frozen records (no ORM objects escape, so
nothing lazy-loads later); `talentfed.web.neighbourhood_svg` draws it.

Edges are accepted follows (a pending follow is not an edge) and interactions (reply, like,
announce, mention) with a known target actor, as in `discovery.load_observed`.

Privacy, the same rule as discovery's: an actor that is not both `discoverable` and `indexable`
(a missing value counts as false), or that is on a blocked domain, is never named or drawn; it
only counts in `Neighbourhood.hidden`, together with the neighbours left out by `limit`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.visibility import actor_listed, on_open_post
from talentfed.federation.blocks import domain_policies
from talentfed.storage.models import Actor, Follow, Interaction

DEFAULT_LIMIT = 24
# Every kind the inbox and the domain record; naming them lets queries on `actor_id` use the
# (kind, actor_id) index.
INTERACTION_KINDS = ("reply", "like", "announce", "mention")
# Keeps each IN (...) list well under SQLite's and asyncpg's limits on bound parameters.
_CHUNK = 5000


@dataclass(frozen=True)
class Person:
    """Someone in the picture: the centre, or (as `Neighbour`) one of the people around them."""

    id: int
    name: str  # display name, or the username when there is none
    handle: str  # "@user@domain"
    url: str  # profile page: ours for a local actor, theirs (or the actor id) for a remote one
    domain: str
    local: bool


@dataclass(frozen=True)
class Neighbour(Person):
    follows_centre: bool  # an accepted follow of the centre
    followed_by_centre: bool  # the centre's follow of them, accepted
    interactions: int  # replies, likes, announces and mentions, in both directions

    @property
    def mutual(self) -> bool:
        return self.follows_centre and self.followed_by_centre


@dataclass(frozen=True)
class Edge:
    """The ties between two shown neighbours; `a` < `b` (actor ids), one edge per pair."""

    a: int
    b: int
    a_follows_b: bool
    b_follows_a: bool
    interactions: int  # both directions

    @property
    def follows(self) -> bool:
        return self.a_follows_b or self.b_follows_a


@dataclass(frozen=True)
class Neighbourhood:
    centre: Person
    neighbours: tuple[Neighbour, ...]  # the strongest first: mutual follow, interactions, name
    edges: tuple[Edge, ...]  # among the shown neighbours only, ordered by (a, b)
    hidden: int  # neighbours not shown: beyond the limit, opted out, or on a blocked domain

    @property
    def total(self) -> int:
        return len(self.neighbours) + self.hidden


class _ActorColumns(Protocol):
    """An `Actor`, or a row of its columns."""

    @property
    def uri(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str | None: ...


def profile_url(actor: _ActorColumns) -> str:
    """Where a click on someone should lead: an http(s) `url`, else the actor id."""
    url = actor.url
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return actor.uri


def _name(actor: _ActorColumns) -> str:
    return (actor.display_name or "").strip() or actor.username


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


async def load_neighbourhood(
    session: AsyncSession, config: Config, actor: Actor, *, limit: int = DEFAULT_LIMIT
) -> Neighbourhood:
    """The centre and up to `limit` of its strongest visible neighbours, with the ties among them."""
    if limit < 0:
        raise ValueError(f"limit: expected 0 or more, got {limit}")
    centre_id = actor.id
    centre = Person(
        centre_id, _name(actor), f"@{actor.handle}", profile_url(actor), actor.domain, actor.local
    )

    follows_centre: set[int] = set()
    followed_by_centre: set[int] = set()
    follow_rows = await session.execute(
        select(Follow.follower_id, Follow.followed_id).where(
            Follow.state == "accepted",
            (Follow.follower_id == centre_id) | (Follow.followed_id == centre_id),
        )
    )
    for follower, followed in follow_rows:
        if follower == centre_id and followed != centre_id:
            followed_by_centre.add(followed)
        elif followed == centre_id and follower != centre_id:
            follows_centre.add(follower)

    interactions: Counter[int] = Counter()
    outgoing = (
        select(Interaction.target_actor_id, func.count())
        .where(
            Interaction.kind.in_(INTERACTION_KINDS),
            on_open_post(),
            Interaction.actor_id == centre_id,
            Interaction.target_actor_id != centre_id,
        )
        .group_by(Interaction.target_actor_id)
    )
    incoming = (
        select(Interaction.actor_id, func.count())
        .where(
            Interaction.kind.in_(INTERACTION_KINDS),
            on_open_post(),
            Interaction.target_actor_id == centre_id,
            Interaction.actor_id != centre_id,
        )
        .group_by(Interaction.actor_id)
    )
    for query in (outgoing, incoming):
        for other, count in await session.execute(query):
            if other is not None:
                interactions[other] += count

    candidates = follows_centre | followed_by_centre | set(interactions)
    blocked = await domain_policies(session, config)
    visible: list[Neighbour] = []
    for chunk in _chunks(candidates):
        rows = await session.execute(
            select(
                Actor.id,
                Actor.uri,
                Actor.url,
                Actor.username,
                Actor.domain,
                Actor.display_name,
                Actor.local,
                Actor.discoverable,
                Actor.indexable,
            ).where(Actor.id.in_(chunk))
        )
        for row in rows:
            if not actor_listed(row, blocked):
                continue
            visible.append(
                Neighbour(
                    id=row.id,
                    name=_name(row),
                    handle=f"@{row.username}@{row.domain}",
                    url=profile_url(row),
                    domain=row.domain,
                    local=bool(row.local),
                    follows_centre=row.id in follows_centre,
                    followed_by_centre=row.id in followed_by_centre,
                    interactions=interactions.get(row.id, 0),
                )
            )
    visible.sort(key=_strength)
    shown = tuple(visible[:limit])
    return Neighbourhood(centre, shown, await _edges_among(session, shown), len(candidates) - len(shown))


def _strength(neighbour: Neighbour) -> tuple[bool, int, str, str, int]:
    return (
        not neighbour.mutual,
        -neighbour.interactions,
        neighbour.name.casefold(),
        neighbour.handle.casefold(),
        neighbour.id,
    )


async def _edges_among(session: AsyncSession, shown: tuple[Neighbour, ...]) -> tuple[Edge, ...]:
    ids = [n.id for n in shown]
    if len(ids) < 2:
        return ()
    follows: set[tuple[int, int]] = set()
    for follower, followed in await session.execute(
        select(Follow.follower_id, Follow.followed_id).where(
            Follow.state == "accepted", Follow.follower_id.in_(ids), Follow.followed_id.in_(ids)
        )
    ):
        if follower != followed:
            follows.add((follower, followed))
    counts: Counter[tuple[int, int]] = Counter()
    for source, target, count in await session.execute(
        select(Interaction.actor_id, Interaction.target_actor_id, func.count())
        .where(
            Interaction.kind.in_(INTERACTION_KINDS),
            on_open_post(),
            Interaction.actor_id.in_(ids),
            Interaction.target_actor_id.in_(ids),
        )
        .group_by(Interaction.actor_id, Interaction.target_actor_id)
    ):
        if target is not None and source != target:  # (the query's targets are in ids: never None)
            counts[(min(source, target), max(source, target))] += count
    pairs = {(min(a, b), max(a, b)) for a, b in follows} | set(counts)
    return tuple(
        Edge(a, b, (a, b) in follows, (b, a) in follows, counts.get((a, b), 0)) for a, b in sorted(pairs)
    )
