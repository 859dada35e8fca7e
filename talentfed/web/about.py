"""The about page: who runs this node and, when the admin publishes them, the servers it
moderates with their public comments (as Mastodon's /about lists them)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from talentfed.domain.moderation import published_blocks
from talentfed.web.templating import render

SEVERITY_WORDS = {"suspend": "Suspended", "silence": "Limited", "noop": "Media rejected"}


async def about(request: Request) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        blocks = await published_blocks(session, config)
    context = {
        "node": config.node,
        "blocks": blocks,
        "published": config.node.publish_domain_blocks,
        "severity_words": SEVERITY_WORDS,
    }
    return await render(request, "about.html", context)


routes = [Route("/about", about)]
