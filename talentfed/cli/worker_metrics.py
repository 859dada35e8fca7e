"""GET /metrics of a `talentfed worker`, when `[worker] metrics_port` (or --metrics-port) is set.

The very endpoint of the web process (`web/metrics.py`: the same metrics, the same `[metrics]`
access rule and the same trusted proxies), in a small app of its own served on the worker's
event loop at `[server] host`:<port>. The worker's signals stay the worker's: this server
neither catches SIGTERM nor stops before the jobs have drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.applications import Starlette

from talentfed.config import Config
from talentfed.federation.runtime import Federation
from talentfed.web import metrics
from talentfed.web.caller import behind_proxies

logger = logging.getLogger("talentfed.metrics")


class MetricsPortUnusable(Exception):
    """The port is taken or not ours to listen on; the text names the setting."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the worker handles SIGINT and SIGTERM itself (it drains first)


def metrics_app(config: Config, federation: Federation) -> Starlette:
    app = Starlette(routes=metrics.routes, middleware=[behind_proxies(config)])
    app.state.config = config
    app.state.federation = federation  # the delivery queue's numbers, read at each scrape
    return app


@contextlib.asynccontextmanager
async def serving(config: Config, federation: Federation) -> AsyncIterator[None]:
    """Serve /metrics for the block, when a port is configured."""
    port = config.worker.metrics_port
    if not port:
        yield
        return
    server = _Server(
        uvicorn.Config(
            metrics_app(config, federation),
            host=config.server.host,
            port=port,
            lifespan="off",
            access_log=False,
            log_config=None,
        )
    )
    try:
        listening = socket.create_server((config.server.host, port))
    except OSError as exc:
        raise MetricsPortUnusable(
            f"[worker] metrics_port (or --metrics-port): cannot listen on {config.server.host}:{port}: "
            f"{exc.strerror or exc}"
        ) from None
    task = asyncio.create_task(server.serve(sockets=[listening]))
    logger.info("worker metrics on http://%s:%d/metrics", config.server.host, port)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        listening.close()
