"""What a signed-in app reads of its member: verify_credentials (with `source`) and the home
timeline, which holds the member's own posts and those of accounts they follow, visibility kept."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, Follow, Object
from tests.support import remote_actor
from tests.web.mastodon.test_oauth import bearer, member_token, register


async def _token(client: httpx.AsyncClient, scope: str = "read write") -> str:
    app = await register(client)
    return str((await member_token(client, app, scope=scope))["access_token"])


async def test_verify_credentials_is_the_member_with_source(demo_client: httpx.AsyncClient) -> None:
    token = await _token(demo_client)
    response = await demo_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "ada" and me["acct"] == "ada"
    assert me["source"]["privacy"] == "public" and isinstance(me["source"]["note"], str)
    # Mastodon 4.3's CredentialAccount: the profile editor's switches, and the member's role
    # (apps read its permissions to offer admin screens: none here).
    assert me["source"]["discoverable"] is True and me["source"]["indexable"] is True
    assert me["source"]["hide_collections"] is False
    assert me["role"] == {"id": "-99", "name": "", "color": "", "permissions": "0", "highlighted": False}
    same = await demo_client.get(f"/api/v1/accounts/{me['id']}")
    assert {k: v for k, v in me.items() if k not in ("source", "role")} == same.json()
    assert same.json()["roles"] == []


async def test_verify_credentials_wants_a_token_with_read_accounts(demo_client: httpx.AsyncClient) -> None:
    anonymous = await demo_client.get("/api/v1/accounts/verify_credentials")
    assert anonymous.status_code == 401
    write_only = await _token(demo_client, scope="write")
    refused = await demo_client.get("/api/v1/accounts/verify_credentials", headers=bearer(write_only))
    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is outside the authorized scopes"}


async def test_home_holds_own_and_followed_posts_and_followers_only_ones(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session, session.begin():
        ada = await session.scalar(select(Actor).where(Actor.username == "ada", Actor.local.is_(True)))
        assert ada is not None
        kim, eve = remote_actor("kim", "lab.example"), remote_actor("eve", "lab.example")
        session.add_all([kim, eve])
        await session.flush()
        session.add(Follow(follower_id=ada.id, followed_id=kim.id, state="accepted"))

        def note(author: Actor, slug: str, visibility: str) -> Object:
            return Object(
                uri=f"https://lab.example/objects/{slug}",
                type="Note",
                kind="note",
                author_id=author.id,
                content=f"<p>{slug}</p>",
                visibility=visibility,
            )

        posts = [note(kim, "kim-public", "public"), note(kim, "kim-followers", "followers")]
        posts += [note(eve, "eve-public", "public")]  # ada does not follow eve
        session.add_all(posts)
        await session.flush()
        ids = {post.uri.rsplit("/", 1)[1]: str(post.id) for post in posts}
        ada_id = ada.id

    token = await _token(demo_client)
    home = await demo_client.get("/api/v1/timelines/home", headers=bearer(token), params={"limit": 40})
    assert home.status_code == 200
    shown = [s["id"] for s in home.json()]
    assert ids["kim-public"] in shown and ids["kim-followers"] in shown
    assert ids["eve-public"] not in shown
    assert any(s["account"]["id"] == str(ada_id) for s in home.json())  # her own posts
    assert "link" in home.headers

    followers_only = await demo_client.get(f"/api/v1/statuses/{ids['kim-followers']}", headers=bearer(token))
    assert followers_only.status_code == 200  # ada is an accepted follower
    assert (await demo_client.get(f"/api/v1/statuses/{ids['kim-followers']}")).status_code == 404
    assert (await demo_client.get("/api/v1/timelines/home")).status_code == 401
