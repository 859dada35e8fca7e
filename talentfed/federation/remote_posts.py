"""Remote posts we do not have yet: fetched from their server, with their author, and stored."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.federation.blocks import domain_policies
from talentfed.federation.fetcher import Fetcher, FetchError
from talentfed.federation.origins import authority, our_hosts
from talentfed.federation.post_reader import UnsupportedObject, read_post
from talentfed.federation.post_store import IngestError, store_post
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.storage.models import Object


class PostUnavailable(Exception):
    """A remote post could not be fetched or read; the text says why."""


class RemotePosts:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], fetcher: Fetcher, actors: RemoteActors
    ) -> None:
        self.sessions = sessions
        self.fetcher = fetcher
        self.actors = actors
        self.our_hosts = our_hosts(actors.config)

    async def ensure(self, url: str) -> None:
        """Have the post at `url` stored: fetched, unless it is one of ours (never fetched: we
        have it or it does not exist) or stored already (asked for its id alone; the inbox asks
        for every Announce)."""
        if authority(url) in self.our_hosts:
            return
        async with self.sessions() as session:
            stored = await session.scalar(select(Object.id).where(Object.uri == url))
        if stored is None:
            await self.fetch(url)

    async def get(self, url: str) -> Object:
        """The stored post at `url`, fetching it first when we do not have it."""
        async with self.sessions() as session:
            post = await session.scalar(select(Object).where(Object.uri == url))
        return post if post is not None else await self.fetch(url)

    async def fetch(self, url: str) -> Object:
        async with self.sessions() as session:
            policies = await domain_policies(session, self.actors.config)
        if policies.refuses(url):
            raise PostUnavailable(f"{url}: the domain is blocked")
        try:
            document = await self.fetcher.fetch_json(url, allow_refetch=True)
            incoming = read_post(document)
        except (FetchError, UnsupportedObject) as exc:
            raise PostUnavailable(str(exc)) from None
        author_uri = incoming.attributed_to
        if not author_uri or urlsplit(author_uri).netloc != urlsplit(incoming.uri).netloc:
            raise PostUnavailable("the post's author is not on the post's server")
        try:
            author = await self.actors.get(author_uri)
        except ActorUnavailable as exc:
            raise PostUnavailable(f"its author: {exc}") from None
        async with self.sessions() as session, session.begin():
            try:
                keep_media = not policies.for_domain(author.domain).media_rejected
                return await store_post(session, incoming, await session.merge(author), keep_media=keep_media)
            except IngestError as exc:
                raise PostUnavailable(str(exc)) from None
