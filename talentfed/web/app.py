"""The Starlette application factory."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from talentfed.config import Config
from talentfed.federation.runtime import Federation
from talentfed.storage.db import create_engine, session_factory
from talentfed.web import activitypub, api, discover, feeds, inbox, objects, wellknown
from talentfed.web.discover import AnalyticsJob
from talentfed.web.health import healthz
from talentfed.web.pages import authorize_interaction
from talentfed.web.request_log import RequestLogMiddleware


def create_app(config: Config, *, engine: AsyncEngine | None = None, run_workers: bool = True) -> Starlette:
    """Build the app. Given an engine, the caller owns it; otherwise the lifespan does.

    Delivery workers run inside the app unless `run_workers` is False (tests drive them).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or create_engine(config.database.url, pool_size=config.database.pool_size)
        app.state.sessions = session_factory(app.state.engine)
        app.state.federation = await Federation.open(config, app.state.sessions)
        app.state.analytics = AnalyticsJob(app.state.sessions, config)
        stop_analytics = asyncio.Event()
        background = []
        if run_workers:
            app.state.federation.start_workers(config.federation.delivery_workers)
            background.append(asyncio.create_task(app.state.analytics.run(stop_analytics)))
        try:
            yield
        finally:
            stop_analytics.set()
            await asyncio.gather(*background, return_exceptions=True)
            await app.state.federation.close()
            if owned:
                await app.state.engine.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/authorize_interaction", authorize_interaction),
            *wellknown.routes,
            *inbox.routes,
            *activitypub.routes,
            *objects.routes,
            *api.routes,
            *discover.routes,
            *feeds.routes,
        ],
        middleware=[Middleware(RequestLogMiddleware)],
        lifespan=lifespan,
    )
    app.state.config = config
    return app
