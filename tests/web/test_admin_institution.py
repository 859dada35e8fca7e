"""The admin's institution form when the node has no institution actor."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from talentfed.storage.models import Actor
from tests.web.test_pages import form_post, sign_in


async def test_editing_a_missing_institution_is_refused_not_a_server_error(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(Actor)
            .where(Actor.local.is_(True), Actor.username == config.node.institution_username)
            .values(username="former-institution")
        )
    await sign_in(demo_client, "ada")
    refused = await form_post(demo_client, "/admin", "/admin/institution", {"display_name": "Demo Institute"})
    assert refused.status_code == 400  # the admin page again, not a 500
