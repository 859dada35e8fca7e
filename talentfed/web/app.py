"""The Starlette application factory."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from talentfed.config import Config
from talentfed.domain.analytics_snapshot import AnalyticsSnapshot
from talentfed.federation.runtime import Federation
from talentfed.jobs.runner import BackgroundJobs, node_jobs
from talentfed.rate_limiter import Limiter
from talentfed.storage.db import (
    create_engine,
    session_factory,
)
from talentfed.web import (
    about,
    accounts,
    activitypub,
    admin,
    admin_reports,
    analytics_api,
    api,
    authoring,
    authorized_apps,
    blocking,
    feeds,
    inbox,
    mastodon,
    media,
    metrics,
    moving,
    objects,
    pages,
    reporting,
    search_page,
    social,
    wellknown,
)
from talentfed.web.caller import behind_proxies
from talentfed.web.database_unavailable import DatabaseUnavailableMiddleware
from talentfed.web.health import healthz, readyz
from talentfed.web.mastodon.cors import ApiCorsMiddleware
from talentfed.web.mastodon.errors import MastodonError, mastodon_error
from talentfed.web.mastodon.params import ParamsError
from talentfed.web.mastodon.throttling import RateLimitMiddleware
from talentfed.web.rate_limits import RateLimits, counter_for
from talentfed.web.request_log import RequestLogMiddleware
from talentfed.web.sessions import FormRefused, SessionMiddleware
from talentfed.web.templating import STATIC

logger = logging.getLogger(__name__)

async def _form_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FormRefused)
    return await pages.message(request, "Not sent", exc.message, status_code=exc.status)


def _session_secret(config: Config) -> str:
    if config.web.session_secret:
        return config.web.session_secret
    logger.warning("[web] session_secret is empty: sign-ins last until the node restarts")
    return secrets.token_urlsafe(48)


def create_app(
    config: Config,
    *,
    engine: AsyncEngine | None = None,
    run_workers: bool = True,
    rate_limiter: Limiter | None = None,
) -> Starlette:
    """Build the app. Given an engine, the caller owns it; otherwise the lifespan does.

    The node's background jobs (`talentfed/jobs/`) run inside the app unless `run_workers` is
    False (tests drive them). Rate limits count where `web/rate_limits.counter_for` says unless
    `rate_limiter` is given (tests give one with their own clock).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = engine is None
        app.state.engine = engine or create_engine(config.database.url, pool_size=config.database.pool_size)
        app.state.sessions = session_factory(app.state.engine)
        app.state.federation = await Federation.open(config, app.state.sessions)
        app.state.analytics = AnalyticsSnapshot(app.state.sessions, config)
        app.state.rate_limits = RateLimits(config, rate_limiter or counter_for(config, app.state.sessions))
        jobs = BackgroundJobs(
            node_jobs(
                config,
                app.state.sessions,
                app.state.federation,
                delivery_workers=config.federation.delivery_workers,
            )
            if run_workers
            else []
        )
        jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await app.state.rate_limits.limiter.close()
            await app.state.federation.close()
            if owned:
                await app.state.engine.dispose()

    app = Starlette(
        routes=[
            Route("/", pages.home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *metrics.routes,
            Route("/authorize_interaction", pages.authorize_interaction),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *media.routes,
            *accounts.routes,
            *about.routes,
            *admin.routes,
            *admin_reports.routes,
            *reporting.routes,
            *authoring.routes,
            *moving.routes,
            *blocking.routes,
            *authorized_apps.routes,
            *social.routes,
            *search_page.routes,
            *wellknown.routes,
            *inbox.routes,
            *activitypub.routes,
            *objects.routes,
            *api.routes,
            *analytics_api.routes,
            *feeds.routes,
            *mastodon.routes,
        ],
        # Outermost first: the client's address is settled before anything reads it, and CORS
        # headers go on every answer of the client API, a 429 of the rate limits included.
        middleware=[
            behind_proxies(config),
            Middleware(RequestLogMiddleware),
            Middleware(ApiCorsMiddleware),
            Middleware(DatabaseUnavailableMiddleware),
            Middleware(RateLimitMiddleware),
            Middleware(
                SessionMiddleware,
                secret=_session_secret(config),
                max_age_seconds=config.web.session_days * 86400,
                https_only=config.node.base_url.startswith("https://"),
            ),
        ],
        exception_handlers={
            FormRefused: _form_refused,
            MastodonError: mastodon_error,
            ParamsError: mastodon_error,
        },
        lifespan=lifespan,
    )
    app.state.config = config
    return app
