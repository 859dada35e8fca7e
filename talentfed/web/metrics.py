"""GET /metrics: the node's metrics in Prometheus' format, for the scrapers `[metrics]` lets in.

Without `[metrics] token` only the loopback address may scrape (the client's address as
web/caller.py settles it, behind trusted proxies only); with one, any client that presents it
as a bearer token. What is counted is declared in observability/metrics.py; the delivery queue
and the unreachable hosts are read from the database at each scrape.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from talentfed.config import MetricsConfig
from talentfed.observability import metrics
from talentfed.web.caller import bearer_token, client_address

logger = logging.getLogger("talentfed.metrics")
DATABASE_TIMEOUT = 5.0  # seconds a scrape waits for the queue's numbers


def is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # "unknown": no client address (a Unix socket)
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def refusal(request: Request, settings: MetricsConfig) -> Response | None:
    """Why this client may not scrape, as the answer to send it; None when it may."""
    if settings.token:
        presented = bearer_token(request)
        if presented is None:
            return PlainTextResponse(
                "GET /metrics needs `Authorization: Bearer <token>` with the token of [metrics] token\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        if not hmac.compare_digest(presented.encode(), settings.token.encode()):
            return PlainTextResponse("this bearer token is not the one of [metrics] token\n", status_code=403)
        return None
    address = client_address(request)
    if not is_loopback(address):
        return PlainTextResponse(
            f"GET /metrics answers the loopback address only, not {address}; "
            "set [metrics] token to scrape from elsewhere\n",
            status_code=403,
        )
    return None


async def _backlog(request: Request) -> metrics.DeliveryBacklog | None:
    try:
        return await asyncio.wait_for(request.app.state.federation.queue.backlog(), DATABASE_TIMEOUT)
    except Exception as exc:  # the scrape still answers, with talentfed_metrics_database_up 0
        logger.warning("could not read the delivery queue for /metrics: %s", exc)
        return None


async def metrics_endpoint(request: Request) -> Response:
    settings: MetricsConfig = request.app.state.config.metrics
    if not settings.enabled:
        return PlainTextResponse("Not Found", status_code=404)
    refused = refusal(request, settings)
    if refused is not None:
        return refused
    body, content_type = metrics.exposition(
        request.headers.get("accept", ""), metrics.database_metrics(await _backlog(request))
    )
    return Response(body, headers={"Content-Type": content_type})


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
