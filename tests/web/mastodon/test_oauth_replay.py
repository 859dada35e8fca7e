"""An authorization code presented twice (RFC 6749 §4.1.2): the second request is refused and
every token issued for the code is revoked, refreshed ones included; of two concurrent
presentations only one is issued a token, and that token is revoked by the other."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from talentfed.storage.db import session_factory
from talentfed.storage.models import OAuthToken
from tests.web.mastodon.test_oauth import (
    REDIRECT,
    assert_oauth_error,
    bearer,
    code_for,
    member_token,
    register,
    token_request,
)

APP_OF_TOKEN = "/api/v1/apps/verify_credentials"  # answers any live token


async def token_works(client: httpx.AsyncClient, access_token: str) -> bool:
    """Whether the token is live (200) or not (401), asked where any token is answered."""
    answer = await client.get(APP_OF_TOKEN, headers=bearer(access_token))
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


async def test_a_replayed_code_revokes_its_tokens_and_their_refreshes(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    first = await member_token(demo_client, app)
    refreshed = await token_request(
        demo_client, app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text
    other = await member_token(demo_client, app)  # another code of the same app and member
    assert await token_works(demo_client, refreshed.json()["access_token"])

    fields = {"grant_type": "authorization_code", "code": first["code"], "redirect_uri": REDIRECT}
    assert_oauth_error(await token_request(demo_client, app, **fields), 400, "invalid_grant")

    assert not await token_works(demo_client, refreshed.json()["access_token"])
    again = await token_request(
        demo_client, app, grant_type="refresh_token", refresh_token=refreshed.json()["refresh_token"]
    )
    assert_oauth_error(again, 400, "invalid_grant")
    assert await token_works(demo_client, other["access_token"])  # only what came from the replayed code


async def test_a_replay_with_a_wrong_verifier_still_revokes(demo_client: httpx.AsyncClient) -> None:
    """Whoever presents the code again had it: the verifier does not make the replay harmless."""
    app = await register(demo_client)
    first = await member_token(demo_client, app)
    fields = {
        "grant_type": "authorization_code",
        "code": first["code"],
        "redirect_uri": "https://else.example",
    }
    assert_oauth_error(
        await token_request(demo_client, app, **fields, code_verifier="x" * 50), 400, "invalid_grant"
    )
    assert not await token_works(demo_client, first["access_token"])


async def test_a_code_of_another_app_revokes_nothing(demo_client: httpx.AsyncClient) -> None:
    app, other_app = await register(demo_client), await register(demo_client)
    first = await member_token(demo_client, app)
    fields = {"grant_type": "authorization_code", "code": first["code"], "redirect_uri": REDIRECT}
    assert_oauth_error(await token_request(demo_client, other_app, **fields), 400, "invalid_grant")
    assert await token_works(demo_client, first["access_token"])


async def test_concurrent_redemptions_issue_one_token_which_the_other_revokes(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    app = await register(demo_client)
    code = await code_for(demo_client, app)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    answers = await asyncio.gather(*(token_request(demo_client, app, **fields) for _ in range(2)))

    assert sorted(answer.status_code for answer in answers) == [200, 400], [a.text for a in answers]
    refused = next(answer for answer in answers if answer.status_code == 400)
    assert_oauth_error(refused, 400, "invalid_grant")
    issued = next(answer for answer in answers if answer.status_code == 200).json()
    async with session_factory(engine)() as session:
        tokens = list(
            await session.scalars(select(OAuthToken).where(OAuthToken.authorization_id.is_not(None)))
        )
    assert len(tokens) == 1 and tokens[0].revoked_at is not None
    assert not await token_works(demo_client, issued["access_token"])
