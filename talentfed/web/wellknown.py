"""/.well-known: WebFinger, host-meta and NodeInfo."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from talentfed.domain import node_about, node_stats
from talentfed.federation import nodeinfo, webfinger
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor
from talentfed.web.mastodon.instance import MASTODON_API_VERSION

CORS = {"Access-Control-Allow-Origin": "*"}


def _uris(request: Request) -> LocalURIs:
    return LocalURIs(request.app.state.config.node.base_url)


async def webfinger_endpoint(request: Request) -> Response:
    config = request.app.state.config
    uris = _uris(request)
    try:
        query = webfinger.parse_resource(request.query_params.get("resource"), uris)
    except webfinger.MalformedResource as exc:
        return PlainTextResponse(f"Bad request: {exc}", status_code=400, headers=CORS)
    if query is None or query.domain != config.node.domain.lower():
        return PlainTextResponse("Not found: not an account on this server", status_code=404, headers=CORS)
    async with request.app.state.sessions() as session:
        username = await session.scalar(
            select(Actor.username).where(Actor.local.is_(True), func.lower(Actor.username) == query.username)
        )
    if username is None:
        return PlainTextResponse("Not found: no such account", status_code=404, headers=CORS)
    document = webfinger.build_jrd(username, config.node.domain, uris)
    return JSONResponse(document, media_type="application/jrd+json", headers=CORS)


async def host_meta(request: Request) -> Response:
    return Response(webfinger.host_meta_xrd(_uris(request)), media_type="application/xrd+xml", headers=CORS)


async def host_meta_json(request: Request) -> Response:
    return JSONResponse(webfinger.host_meta_json(_uris(request)), headers=CORS)


async def nodeinfo_links(request: Request) -> Response:
    return JSONResponse(nodeinfo.discovery_document(request.app.state.config.node.base_url), headers=CORS)


async def nodeinfo_endpoint(request: Request) -> Response:
    version = request.path_params["version"]
    if version not in nodeinfo.VERSIONS:
        return PlainTextResponse("Not found: NodeInfo 2.0 and 2.1 are served", status_code=404)
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        usage = await node_stats.usage(session)
        contact = await node_about.contact_account(session, config)
    document = nodeinfo.nodeinfo_document(
        version,
        config,
        usage,
        mastodon_api_version=MASTODON_API_VERSION,
        rules=[dataclasses.asdict(rule) for rule in node_about.rules_of(config)],
        maintainer_name=f"@{contact.handle}" if contact else "",
    )
    return JSONResponse(document, media_type=nodeinfo.content_type(version), headers=CORS)


routes = [
    Route("/.well-known/webfinger", webfinger_endpoint),
    Route("/.well-known/host-meta", host_meta),
    Route("/.well-known/host-meta.json", host_meta_json),
    Route("/.well-known/nodeinfo", nodeinfo_links),
    Route("/nodeinfo/{version}", nodeinfo_endpoint),
]
