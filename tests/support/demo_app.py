"""An in-process app over a database that holds the demo institution, and a client for it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.demo import ensure_demo
from talentfed.storage.db import session_factory
from talentfed.web.app import create_app


@contextlib.asynccontextmanager
async def demo_app_client(config: Config, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The app for `config` on `engine`, its lifespan running, with the demo stored first."""
    async with session_factory(engine)() as session, session.begin():
        await ensure_demo(session, config)
    app = create_app(config, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            yield client
