"""The federation pieces of a running node, wired together once.

The web app opens one `Federation` in its lifespan; CLI commands open one per command. The
background jobs that deliver and refresh actors (`talentfed/jobs/delivery.py`) run on it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.federation.blocks import CachedPolicies
from talentfed.federation.delivery import Deliverer, DeliveryPolicy, DeliveryQueue, DeliveryWorker
from talentfed.federation.fetcher import Fetcher, FetcherConfig, Signer
from talentfed.federation.inbox import Inbox
from talentfed.federation.remote_actors import REFRESH_AFTER, RemoteActors
from talentfed.federation.remote_posts import RemotePosts
from talentfed.federation.signatures import sign_request
from talentfed.storage.models import Actor, Follow, Object, utcnow

logger = logging.getLogger("talentfed.federation")


def fetcher_config(config: Config) -> FetcherConfig:
    federation = config.federation
    return FetcherConfig(
        base_url=config.node.base_url,
        dev_mode=federation.dev_mode,
        connect_timeout=federation.connect_timeout,
        read_timeout=federation.request_timeout,
        total_timeout=federation.request_timeout * 2,
        max_response_bytes=federation.max_fetch_bytes,
    )


def delivery_policy(config: Config) -> DeliveryPolicy:
    return DeliveryPolicy(
        base_delay=config.federation.retry_initial_delay,
        lease=timedelta(seconds=config.federation.delivery_lease_seconds),
        drain=config.worker.drain_seconds,
    )


@dataclass
class Federation:
    config: Config
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    actors: RemoteActors
    inbox: Inbox
    queue: DeliveryQueue
    posts: RemotePosts
    # The domain policies as the inbox and the delivery workers of this process read them.
    policies: CachedPolicies

    @classmethod
    async def open(
        cls, config: Config, sessions: async_sessionmaker[AsyncSession], policy: DeliveryPolicy | None = None
    ) -> Federation:
        signer = await _institution_signer(sessions, config)
        fetcher = Fetcher(fetcher_config(config), sign=signer)
        actors = RemoteActors(sessions, fetcher, config)
        posts = RemotePosts(sessions, fetcher, actors)
        policies = CachedPolicies(sessions, config)
        return cls(
            config=config,
            sessions=sessions,
            fetcher=fetcher,
            actors=actors,
            inbox=Inbox(sessions, config, actors, posts, policies),
            policies=policies,
            posts=posts,
            queue=DeliveryQueue(sessions, policy or delivery_policy(config)),
        )

    async def fetch_post(self, url: str) -> Object:
        """A remote post by its URL, fetched and stored (see federation/remote_posts.py)."""
        return await self.posts.fetch(url)

    def new_worker(self) -> DeliveryWorker:
        return DeliveryWorker(self.queue, Deliverer(self.fetcher, self.queue, self.policies))

    async def close(self) -> None:
        """Close what it opened; the jobs that use it (`talentfed/jobs/`) must have stopped."""
        await self.inbox.close()
        await self.fetcher.aclose()


async def stale_followed_actors(sessions: async_sessionmaker[AsyncSession], limit: int) -> list[str]:
    """Remote actors on either side of a follow whose copy is older than REFRESH_AFTER."""
    cutoff = utcnow() - REFRESH_AFTER
    related = select(Follow.follower_id).union(select(Follow.followed_id))
    async with sessions() as session:
        rows = await session.scalars(
            select(Actor.uri)
            .where(Actor.local.is_(False), Actor.id.in_(related), Actor.fetched_at < cutoff)
            .order_by(Actor.fetched_at)
            .limit(limit)
        )
        return list(rows)


async def _institution_signer(sessions: async_sessionmaker[AsyncSession], config: Config) -> Signer | None:
    """Signed GETs come from the institution actor: its WebFinger resolves, as Mastodon checks."""
    try:
        async with sessions() as session:
            institution = await session.scalar(
                select(Actor).where(Actor.local.is_(True), Actor.username == config.node.institution_username)
            )
    except Exception as exc:  # the node still starts (and /healthz reports) with the database down
        logger.error("could not load the institution's key: %s", exc)
        return None
    if institution is None or not institution.private_key_pem or not institution.public_key_id:
        logger.warning("no institution actor yet: remote fetches will not be signed")
        return None
    key_id, private_pem = institution.public_key_id, institution.private_key_pem

    def sign(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Mapping[str, str]:
        return sign_request(method, url, headers, body, key_id=key_id, private_key_pem=private_pem)

    return sign


@contextlib.asynccontextmanager
async def federation(config: Config, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Federation]:
    runtime = await Federation.open(config, sessions)
    try:
        yield runtime
    finally:
        await runtime.close()
