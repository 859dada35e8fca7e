"""The crawler: widens the observed graph by reading followers/following collections.

It starts from the remote actors our members follow, are followed by or have interacted
with, reads their collections page by page, stores each follow it sees as an edge and
fetches the actors it has not seen, up to `depth` hops. It is polite: a limit on requests
in flight per host and a minimum interval between them, the fetcher's size limits and SSRF
rules, blocked domains skipped, hidden collections (401/403/404, or no pages) respected.
It resumes where it stopped: an actor is crawled again only after `recrawl_after`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, CompoundSelect, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.federation.as_values import as_list, id_of
from talentfed.federation.blocks import NO_POLICIES, DomainPolicies, domain_policies
from talentfed.federation.fetcher import Fetcher, FetchError
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.storage.models import Actor, Follow, Interaction, utcnow

logger = logging.getLogger("talentfed.crawler")


@dataclass(frozen=True)
class CrawlPolicy:
    depth: int = 1
    per_host_concurrency: int = 2
    per_host_interval: float = 0.25  # seconds between two requests to one host
    max_pages: int = 10  # per collection
    max_actors: int = 5000  # newly fetched actors per run
    recrawl_after: timedelta = timedelta(days=7)
    concurrency: int = 8  # actors crawled at once


@dataclass
class CrawlProgress:
    crawled: int = 0
    queued: int = 0
    new_actors: int = 0
    new_edges: int = 0
    hidden: int = 0
    failed: int = 0


class HostLimiter:
    """At most N requests in flight per host, and a minimum interval between their starts."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self.concurrency = concurrency
        self.interval = interval
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    async def __call__(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc
        semaphore = self._semaphores.setdefault(host, asyncio.Semaphore(self.concurrency))
        await semaphore.acquire()
        now = time.monotonic()
        start = max(now, self._next_start.get(host, now))
        self._next_start[host] = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
        return semaphore


@dataclass
class Crawler:
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    actors: RemoteActors
    config: Config
    policy: CrawlPolicy = field(default_factory=CrawlPolicy)
    on_progress: Callable[[CrawlProgress], None] | None = None
    progress: CrawlProgress = field(default_factory=CrawlProgress)

    def __post_init__(self) -> None:
        self._limit = HostLimiter(self.policy.per_host_concurrency, self.policy.per_host_interval)
        self._blocked: DomainPolicies = NO_POLICIES

    async def run(self) -> CrawlProgress:
        async with self.sessions() as session:
            self._blocked = await domain_policies(session, self.config)
        frontier = await self._seeds()
        for hop in range(self.policy.depth + 1):
            frontier = [uri for uri in frontier if not self._blocked.refuses(uri)]
            self.progress.queued += len(frontier)
            self._report()
            discovered = await self._crawl_all(frontier, fetch_new=hop < self.policy.depth)
            frontier = await self._due(discovered)
            if not frontier:
                break
        return self.progress

    # -- which actors --------------------------------------------------------------------

    async def _seeds(self) -> list[str]:
        """Remote actors in a follow or an interaction with one of our actors, due for a crawl."""
        local = select(Actor.id).where(Actor.local.is_(True))
        related: CompoundSelect[int | None] = union(
            select(Follow.followed_id).where(Follow.follower_id.in_(local)),
            select(Follow.follower_id).where(Follow.followed_id.in_(local)),
            select(Interaction.actor_id).where(Interaction.target_actor_id.in_(local)),
            select(Interaction.target_actor_id).where(Interaction.actor_id.in_(local)),
        )
        async with self.sessions() as session:
            uris = await session.scalars(
                select(Actor.uri).where(Actor.local.is_(False), Actor.id.in_(related), self._is_due())
            )
            return list(uris)

    def _is_due(self) -> ColumnElement[bool]:
        return or_(Actor.crawled_at.is_(None), Actor.crawled_at < utcnow() - self.policy.recrawl_after)

    async def _due(self, uris: set[str]) -> list[str]:
        if not uris:
            return []
        async with self.sessions() as session:
            rows = await session.scalars(
                select(Actor.uri).where(Actor.uri.in_(uris), Actor.local.is_(False), self._is_due())
            )
            return list(rows)

    # -- crawling -------------------------------------------------------------------------

    async def _crawl_all(self, uris: list[str], *, fetch_new: bool) -> set[str]:
        discovered: set[str] = set()
        slots = asyncio.Semaphore(self.policy.concurrency)

        async def one(uri: str) -> None:
            async with slots:
                discovered.update(await self._crawl_actor(uri, fetch_new=fetch_new))

        await asyncio.gather(*(one(uri) for uri in uris))
        return discovered

    async def _crawl_actor(self, uri: str, *, fetch_new: bool) -> set[str]:
        async with self.sessions() as session:
            actor = await session.scalar(select(Actor).where(Actor.uri == uri))
        if actor is None:
            return set()
        seen: set[str] = set()
        for collection, direction in ((actor.followers_url, "followers"), (actor.following_url, "following")):
            if collection:
                members = await self._read_collection(collection)
                seen |= await self._store_edges(actor, members, direction, fetch_new=fetch_new)
        async with self.sessions() as session, session.begin():
            stored = await session.get(Actor, actor.id)
            if stored is not None:
                stored.crawled_at = utcnow()
        self.progress.crawled += 1
        self._report()
        return seen

    async def _get(self, url: str) -> dict[str, Any] | None:
        if self._blocked.refuses(url):
            return None
        semaphore = await self._limit(url)
        try:
            return await self.fetcher.fetch_json(url)
        except FetchError as exc:
            logger.info("crawl: %s not readable: %s", url, exc)
            return None
        finally:
            semaphore.release()

    async def _read_collection(self, url: str) -> list[str]:
        """The actor ids in a (paged) collection; [] when it is hidden or unreadable."""
        collection = await self._get(url)
        if collection is None:
            self.progress.hidden += 1
            return []
        items = _items(collection)
        page = collection.get("first")
        pages = 0
        while page is not None and pages < self.policy.max_pages:
            pages += 1
            document = page if isinstance(page, dict) and _items(page) else None
            page_id = id_of(page)
            if document is None and page_id:
                document = await self._get(page_id)
            if document is None:
                break
            items += _items(document)
            page = document.get("next")
        if not items and not page and collection.get("totalItems"):
            self.progress.hidden += 1  # a count but no members: the owner hides the list
        return list(dict.fromkeys(items))

    async def _store_edges(
        self, owner: Actor, members: list[str], direction: str, *, fetch_new: bool
    ) -> set[str]:
        known = await self._known_ids(members)
        new = [uri for uri in members if uri not in known and not self._blocked.refuses(uri)]
        if fetch_new:
            for uri in new[: max(0, self.policy.max_actors - self.progress.new_actors)]:
                if await self._fetch_actor(uri):
                    self.progress.new_actors += 1
            known = await self._known_ids(members)
        added = 0
        async with self.sessions() as session, session.begin():
            for other_id in known.values():
                follower, followed = (
                    (other_id, owner.id) if direction == "followers" else (owner.id, other_id)
                )
                if follower == followed:
                    continue
                exists = await session.scalar(
                    select(Follow.id).where(Follow.follower_id == follower, Follow.followed_id == followed)
                )
                if exists is None:
                    session.add(Follow(follower_id=follower, followed_id=followed, state="accepted"))
                    added += 1
        self.progress.new_edges += added
        return set(known)

    async def _known_ids(self, uris: list[str]) -> dict[str, int]:
        if not uris:
            return {}
        async with self.sessions() as session:
            rows = await session.execute(select(Actor.uri, Actor.id).where(Actor.uri.in_(uris)))
            return {uri: actor_id for uri, actor_id in rows}

    async def _fetch_actor(self, uri: str) -> bool:
        semaphore = await self._limit(uri)
        try:
            await self.actors.fetch(uri)
            return True
        except ActorUnavailable as exc:
            self.progress.failed += 1
            logger.info("crawl: actor %s unavailable: %s", uri, exc)
            return False
        finally:
            semaphore.release()

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress)


def _items(document: dict[str, Any]) -> list[str]:
    values = as_list(document.get("orderedItems")) + as_list(document.get("items"))
    return [
        uri for uri in (id_of(value) for value in values) if uri and uri.startswith(("https://", "http://"))
    ]
