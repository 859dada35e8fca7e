"""Our node, in process (httpx.ASGITransport), with two members: bob follows back at once,
carol approves followers by hand. Delivery workers do not run; tests run them when needed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette

from talentfed.config import Config
from talentfed.domain import follows, posts
from talentfed.domain.members import NewMember, add_member, find_local_actor
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, Object
from talentfed.web.app import create_app
from tests.federation.remote_server import RemoteUser


@dataclass
class Node:
    """Our node, in process: bob follows back at once, carol approves followers by hand."""

    config: Config
    app: Starlette
    client: httpx.AsyncClient
    sessions: async_sessionmaker

    @property
    def federation(self):
        return self.app.state.federation

    def actor_uri(self, username: str) -> str:
        return f"{self.config.node.base_url}/users/{username}"

    async def post(
        self,
        path: str,
        activity: dict | bytes,
        signer: RemoteUser | None,
        *,
        private_pem: str | None = None,
        scheme: str = "cavage",
    ) -> httpx.Response:
        """POST to one of our inboxes, signed by `signer` (with another key if `private_pem`)."""
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = {"Content-Type": "application/activity+json"}
        if signer is not None:
            url = f"{self.config.node.base_url}{path}"
            headers = signer.signed_headers(url, body, private_pem=private_pem, scheme=scheme)
        return await self.client.post(path, content=body, headers=headers)

    async def to_bob(self, activity: dict, signer: RemoteUser, **options: Any) -> httpx.Response:
        return await self.post("/users/bob/inbox", activity, signer, **options)

    async def follow_from(self, user: RemoteUser, username: str, *, approve: bool = False) -> None:
        """`user` follows the member `username` with a signed Follow; `approve` accepts it
        by hand (carol approves followers by hand)."""
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": user.server.activity_id(f"follow-{user.slug}-{username}"),
            "type": "Follow",
            "actor": user.uri,
            "object": self.actor_uri(username),
        }
        response = await self.post(f"/users/{username}/inbox", follow, user)
        assert response.status_code == 202, response.text
        if approve:
            async with self.sessions() as session, session.begin():
                member = await find_local_actor(session, username)
                follower = await self.federation.actors.fetch(user.uri)
                await follows.answer_request(session, self.config, member, follower, accept=True)

    async def followers_only_post(self, username: str, title: str, body: str) -> Object:
        async with self.sessions() as session, session.begin():
            author = await find_local_actor(session, username)
            draft = posts.Draft(kind="article", title=title, body=body, visibility="followers")
            return await posts.publish(session, self.config, author, draft)

    async def count(self, model: type, *where: Any) -> int:
        async with self.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where))

    async def actor(self, uri: str) -> Actor | None:
        async with self.sessions() as session:
            return await session.scalar(select(Actor).where(Actor.uri == uri))

    async def follow_state(self, follower: str, followed: str) -> str | None:
        async with self.sessions() as session:
            return await session.scalar(
                select(Follow.state)
                .join(Actor, Actor.id == Follow.follower_id)
                .where(
                    Actor.uri == follower,
                    Follow.followed_id.in_(select(Actor.id).where(Actor.uri == followed)),
                )
            )


@contextlib.asynccontextmanager
async def open_node(config: Config, engine: AsyncEngine) -> AsyncIterator[Node]:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        if await find_local_actor(session, "bob") is None:
            await add_member(session, config, NewMember("bob", "Bob"))
            await add_member(session, config, NewMember("carol", "Carol", manually_approves_followers=True))
    app = create_app(config, engine=engine, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            yield Node(config, app, client, sessions)
