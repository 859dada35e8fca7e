"""What apps read first (/api/v1/instance, /api/v2/instance, peers), the empty answers for what
we do not do, CORS on the client API, and Mastodon's error shape."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.domain.posts import MAX_BODY
from talentfed.storage.db import session_factory
from talentfed.storage.models import DomainBlock
from talentfed.web.app import create_app
from tests.support import remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register


async def test_v1_instance_reports_the_node_and_our_limits(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    response = await demo_client.get("/api/v1/instance")
    assert response.status_code == 200
    body = response.json()
    assert body["uri"] == config.node.domain and body["title"] == config.node.name
    assert body["version"].startswith("4.") and "(compatible; talentfed " in body["version"]
    assert body["stats"]["user_count"] >= 3  # the demo members
    assert body["stats"]["status_count"] > 0
    assert body["configuration"]["statuses"]["max_characters"] == MAX_BODY
    assert body["configuration"]["statuses"]["max_media_attachments"] == 4
    assert body["registrations"] is False
    media = body["configuration"]["media_attachments"]
    assert media["supported_mime_types"] == ["image/jpeg", "image/png", "image/gif", "image/webp"]
    assert (media["image_size_limit"], media["image_matrix_limit"]) == (16 * 1024 * 1024, 33_177_600)
    assert media["video_size_limit"] == 0  # no video yet


async def test_v2_instance_has_the_fields_apps_require(
    demo_client: httpx.AsyncClient, config: Config
) -> None:
    body = (await demo_client.get("/api/v2/instance")).json()
    assert body["domain"] == config.node.domain
    assert body["usage"]["users"]["active_month"] >= 1
    assert body["registrations"]["enabled"] is False
    assert body["thumbnail"]["url"].startswith(config.node.base_url)
    assert body["configuration"]["statuses"]["max_characters"] == MAX_BODY
    assert body["configuration"]["media_attachments"]["image_size_limit"] == config.media.max_image_bytes
    assert body["contact"]["email"] == config.node.admin_contact


async def test_peers_are_private_unless_the_admin_publishes_them(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.get("/api/v1/instance/peers")
    assert response.status_code == 404
    assert response.json() == {"error": "This node does not list its peers"}


async def test_published_peers_leave_blocked_domains_out(config: Config, engine: AsyncEngine) -> None:
    publishing = dataclasses.replace(config, node=dataclasses.replace(config.node, publish_peers=True))
    async with session_factory(engine)() as session, session.begin():
        session.add_all([remote_actor("kim", "lab.example"), remote_actor("eve", "spam.example")])
        session.add(DomainBlock(domain="spam.example"))
    app = create_app(publishing, engine=engine, run_workers=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=config.node.base_url) as client:
            response = await client.get("/api/v1/instance/peers")
    assert response.status_code == 200
    assert response.json() == ["lab.example"]


PUBLIC_EMPTY = ["/api/v1/custom_emojis", "/api/v1/trends", "/api/v1/trends/tags"]
MEMBERS_EMPTY = ["/api/v2/filters", "/api/v1/lists", "/api/v1/announcements"]


@pytest.mark.parametrize("path", PUBLIC_EMPTY)
async def test_what_we_do_not_do_answers_empty(demo_client: httpx.AsyncClient, path: str) -> None:
    response = await demo_client.get(path)
    assert response.status_code == 200 and response.json() == []


async def test_members_empty_answers_want_a_token_as_mastodons_do(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    token = (await member_token(demo_client, app))["access_token"]
    for path in MEMBERS_EMPTY:
        refused = await demo_client.get(path)
        assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}
        answered = await demo_client.get(path, headers=bearer(token))
        assert answered.status_code == 200
        assert answered.json() == []


async def test_browser_apps_may_call_the_api_across_origins(demo_client: httpx.AsyncClient) -> None:
    preflight = await demo_client.options(
        "/api/v1/instance",
        headers={"Origin": "https://elk.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    answered = await demo_client.get("/api/v1/instance", headers={"Origin": "https://elk.example"})
    assert answered.headers["access-control-allow-origin"] == "*"
    assert "Link" in answered.headers["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in answered.headers


async def test_web_pages_are_not_opened_to_other_origins(demo_client: httpx.AsyncClient) -> None:
    page = await demo_client.get("/", headers={"Origin": "https://elk.example"})
    assert "access-control-allow-origin" not in page.headers
