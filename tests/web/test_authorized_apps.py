"""/settings/apps: the apps that hold a member's tokens, and revoking one (every token of that app
for that member ends at once, through domain/oauth.revoke_application)."""

from __future__ import annotations

import re
from html import unescape

import httpx

from tests.web.mastodon.test_oauth import (
    REDIRECT,
    assert_oauth_error,
    code_for,
    member_token,
    register,
    token_request,
)
from tests.web.mastodon.test_oauth_replay import token_works
from tests.web.test_pages import BASE, csrf_of, sign_in

PAGE = "/settings/apps"


async def _revoke(client: httpx.AsyncClient, application_id: str) -> httpx.Response:
    page = await client.get(PAGE)
    return await client.post(
        f"{PAGE}/revoke", data={"application": application_id, "csrf_token": csrf_of(page.text)}
    )


def _listed(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<li class="card">\s*<h2>([^<]+)</h2>', html)]


async def test_the_page_lists_apps_with_live_tokens(demo_client: httpx.AsyncClient) -> None:
    await sign_in(demo_client)
    empty = await demo_client.get(PAGE)
    assert empty.status_code == 200 and "No app has access to your account" in empty.text

    elk = await register(demo_client, client_name="Elk", website="https://elk.example")
    issued = await member_token(demo_client, elk, scope="read write")
    tusky = await register(demo_client, client_name="Tusky <beta>")
    await member_token(demo_client, tusky, scope="read")
    own = await token_request(demo_client, tusky, grant_type="client_credentials")  # no member: not listed
    assert own.status_code == 200
    page = (await demo_client.get(PAGE)).text
    assert sorted(_listed(page)) == ["Elk", "Tusky <beta>"]
    assert "Tusky &lt;beta&gt;" in page  # escaped
    assert 'href="https://elk.example"' in page and "<code>read</code> <code>write</code>" in page
    assert "never used" in page and "last used" not in page

    assert await token_works(demo_client, issued["access_token"])
    used = (await demo_client.get(PAGE)).text
    assert _listed(used)[0] == "Elk" and "last used" in used  # the most recently used first


async def test_revoking_ends_every_token_of_that_app_at_once(demo_client: httpx.AsyncClient) -> None:
    app, other = await register(demo_client), await register(demo_client, client_name="Other")
    first, second = await member_token(demo_client, app), await member_token(demo_client, app)
    kept = await member_token(demo_client, other)
    pending = await code_for(demo_client, app)  # approved, not traded yet

    revoked = await _revoke(demo_client, app["id"])
    assert revoked.status_code == 303 and revoked.headers["location"] == PAGE
    after = await demo_client.get(PAGE)
    assert "no longer has access" in after.text and _listed(after.text) == ["Other"]

    for token in (first, second):
        assert not await token_works(demo_client, token["access_token"])
        refreshed = await token_request(
            demo_client, app, grant_type="refresh_token", refresh_token=token["refresh_token"]
        )
        assert_oauth_error(refreshed, 400, "invalid_grant")
    traded = await token_request(
        demo_client, app, grant_type="authorization_code", code=pending, redirect_uri=REDIRECT
    )
    assert_oauth_error(traded, 400, "invalid_grant")
    assert await token_works(demo_client, kept["access_token"])
    assert (await _revoke(demo_client, app["id"])).status_code == 404  # nothing left to revoke


async def test_another_members_app_cannot_be_revoked(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    async with httpx.AsyncClient(transport=demo_client._transport, base_url=BASE) as grace:
        await sign_in(grace, "grace")
        graces = await member_token(grace, app)
    await sign_in(demo_client, "ada")
    assert _listed((await demo_client.get(PAGE)).text) == []
    for application_id in (app["id"], "0", "-1", "99999999999", "x", "\x00"):
        refused = await _revoke(demo_client, application_id)
        assert refused.status_code == 404, application_id
    assert await token_works(demo_client, graces["access_token"])


async def test_revoking_needs_the_csrf_token_and_a_member(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    issued = await member_token(demo_client, app)
    forged = await demo_client.post(f"{PAGE}/revoke", data={"application": app["id"]})
    assert forged.status_code == 403
    assert await token_works(demo_client, issued["access_token"])
    async with httpx.AsyncClient(transport=demo_client._transport, base_url=BASE) as anonymous:
        for answer in (await anonymous.get(PAGE), await anonymous.post(f"{PAGE}/revoke", data={})):
            assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=")
