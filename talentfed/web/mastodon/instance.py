"""`/api/v1/instance`, `/api/v2/instance`, `/api/v1/instance/rules` and `/api/v1/instance/peers`:
what apps read first.

Apps decide what to offer from these documents (the compose box's length, media, polls), so the
limits are ours: a post's text may be as long as publishing accepts (domain/posts.MAX_BODY);
pictures as domain/media.py accepts them, within the node's `[media]` caps; no video, audio or
polls yet, so those limits are zero. The rules and the contact are the node's own
(domain/node_about.py), as its home page shows them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed import __version__
from talentfed.config import Config
from talentfed.domain import media, node_about, node_stats
from talentfed.domain.members import MAX_SKILLS
from talentfed.domain.posts import MAX_BODY, MAX_PINNED
from talentfed.domain.profiles import profile_counts
from talentfed.federation.limits import MAX_MEDIA_DESCRIPTION
from talentfed.federation.nodeinfo import Usage
from talentfed.web.mastodon.entities import account
from talentfed.web.mastodon.errors import MastodonError

# The Mastodon API version whose shapes we follow; apps read features from it.
MASTODON_API_VERSION = "4.3.0"
VERSION = f"{MASTODON_API_VERSION} (compatible; talentfed {__version__})"
SOURCE_URL = "https://github.com/talentfed/talentfed"
CHARACTERS_RESERVED_PER_URL = 23  # as Mastodon counts links


def _limits(config: Config) -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": MAX_SKILLS, "max_pinned_statuses": MAX_PINNED},
        "statuses": {
            "max_characters": MAX_BODY,
            "max_media_attachments": media.MAX_ATTACHMENTS,
            "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
        },
        "media_attachments": {
            "supported_mime_types": list(media.SUPPORTED_TYPES),
            "description_limit": MAX_MEDIA_DESCRIPTION,
            "image_size_limit": config.media.max_image_bytes,
            "image_matrix_limit": config.media.max_image_pixels,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
    }


def _registrations_message() -> str:
    return "Members join with an invitation from their institution's admin."


def rules(config: Config) -> list[dict[str, str]]:
    """Mastodon's Rule entities: id, text and hint."""
    return [dataclasses.asdict(rule) for rule in node_about.rules_of(config)]


def instance_v1(
    config: Config, usage: Usage, domain_count: int, contact: dict[str, Any] | None = None
) -> dict[str, Any]:
    node = config.node
    return {
        "uri": node.domain,
        "title": node.name,
        "short_description": node.summary,
        "description": node.summary,
        "email": node.admin_contact,
        "version": VERSION,
        "urls": {},  # no streaming API: apps poll
        "stats": {
            "user_count": usage.users_total,
            "status_count": usage.local_posts,
            "domain_count": domain_count,
        },
        "thumbnail": None,
        "languages": ["en"],
        "registrations": False,
        "approval_required": True,
        "invites_enabled": True,
        "configuration": _limits(config),
        "contact_account": contact,
        "rules": rules(config),
    }


def instance_v2(config: Config, usage: Usage, contact: dict[str, Any] | None = None) -> dict[str, Any]:
    node = config.node
    return {
        "domain": node.domain,
        "title": node.name,
        "version": VERSION,
        "source_url": SOURCE_URL,
        "description": node.summary,
        "usage": {"users": {"active_month": usage.users_active_month}},
        "thumbnail": {"url": f"{node.base_url}/static/favicon.svg"},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": None, "status": None, "about": f"{node.base_url}/"},
            "vapid": {"public_key": ""},
            "translation": {"enabled": False},
            **_limits(config),
        },
        "registrations": {"enabled": False, "approval_required": True, "message": _registrations_message()},
        "api_versions": {"mastodon": 2},
        "contact": {"email": node.admin_contact, "account": contact},
        "rules": rules(config),
    }


async def _contact(session: AsyncSession, config: Config) -> dict[str, Any] | None:
    actor = await node_about.contact_account(session, config)
    return None if actor is None else account(actor, await profile_counts(session, actor), config)


async def v1(request: Request) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        usage = await node_stats.usage(session)
        domains = await node_stats.peer_domains(session, config)
        contact = await _contact(session, config)
    return JSONResponse(instance_v1(config, usage, len(domains), contact))


async def v2(request: Request) -> Response:
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        usage = await node_stats.usage(session)
        contact = await _contact(session, config)
    return JSONResponse(instance_v2(config, usage, contact))


async def instance_rules(request: Request) -> Response:
    return JSONResponse(rules(request.app.state.config))


async def peers(request: Request) -> Response:
    config = request.app.state.config
    if not config.node.publish_peers:
        raise MastodonError(404, "This node does not list its peers")
    async with request.app.state.sessions() as session:
        return JSONResponse(await node_stats.peer_domains(session, config))


routes = [
    Route("/api/v1/instance", v1),
    Route("/api/v2/instance", v2),
    Route("/api/v1/instance/rules", instance_rules),
    Route("/api/v1/instance/peers", peers),
]
