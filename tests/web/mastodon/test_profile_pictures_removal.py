"""`DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2): the picture goes from the
account and the actor, followers' servers get an Update, the CredentialAccount answers."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.config import Config
from tests.domain.test_media import picture
from tests.web.mastodon.test_media import _auth, _latest
from tests.web.mastodon.test_profile import _updates_sent

UPDATE = "/api/v1/accounts/update_credentials"


@pytest.mark.parametrize(("field", "actor_term"), [("avatar", "icon"), ("header", "image")])
async def test_a_picture_is_removed_and_the_removal_federated(
    demo_client: httpx.AsyncClient, engine: AsyncEngine, config: Config, field: str, actor_term: str
) -> None:
    auth = await _auth(demo_client)
    files = {field: ("p.png", picture("PNG", (900, 600)), "image/png")}
    uploaded = (await demo_client.patch(UPDATE, files=files, headers=auth)).json()[field]
    assert uploaded.startswith(f"{config.node.base_url}/media/")
    before = await _updates_sent(engine)

    removed = await demo_client.delete(f"/api/v1/profile/{field}", headers=auth)
    assert removed.status_code == 200, removed.text
    account = removed.json()
    assert account[field] != uploaded and "source" in account  # the CredentialAccount
    assert await _updates_sent(engine) == before + 1
    assert actor_term not in (await _latest(engine, "Update"))["object"]
    actor = await demo_client.get("/users/ada", headers={"Accept": "application/activity+json"})
    assert actor_term not in actor.json()

    again = await demo_client.delete(f"/api/v1/profile/{field}", headers=auth)  # nothing left: no error
    assert again.status_code == 200 and again.json()[field] == account[field]


async def test_removing_needs_a_token_with_write_accounts(demo_client: httpx.AsyncClient) -> None:
    for field in ("avatar", "header"):
        assert (await demo_client.delete(f"/api/v1/profile/{field}")).status_code == 401
        read_only = await demo_client.delete(
            f"/api/v1/profile/{field}", headers=await _auth(demo_client, "read")
        )
        assert (read_only.status_code, read_only.json()) == (
            403,
            {"error": "This action is outside the authorized scopes"},
        )
    assert (
        await demo_client.delete("/api/v1/profile/banner", headers=await _auth(demo_client))
    ).status_code in (404, 405)
