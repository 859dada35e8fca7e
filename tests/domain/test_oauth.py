"""domain/oauth.py: scopes, and the token rules that the web tests do not reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import oauth
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import find_member
from talentfed.domain.oauth import NewApplication, OAuthError, grants, parse_scopes
from talentfed.storage.models import OAuthToken, utcnow

REDIRECT = "https://app.example/callback"


@pytest.mark.parametrize(
    ("held", "needed", "granted"),
    [
        ("read", "read:statuses", True),
        ("read", "read", True),
        ("read", "write:statuses", False),
        ("write", "write:favourites", True),
        ("read:statuses", "read:accounts", False),
        ("read:statuses", "read", False),
        ("follow", "write:follows", True),
        ("follow", "read:mutes", True),
        ("follow", "read:statuses", False),
        ("follow", "follow", True),
        ("profile", "read:accounts", False),
    ],
)
def test_grants(held: str, needed: str, granted: bool) -> None:
    assert grants(held.split(), needed) is granted


def test_parse_scopes_keeps_order_drops_repeats_and_defaults_to_read() -> None:
    assert parse_scopes("write read write  follow") == ("write", "read", "follow")
    assert parse_scopes("") == ("read",) and parse_scopes(None) == ("read",)


@pytest.mark.parametrize("text", ["admin:read", "admin:write:accounts", "admin", "read telepathy", "READ"])
def test_parse_scopes_refuses_admin_and_unknown_scopes(text: str) -> None:
    with pytest.raises(OAuthError) as refused:
        parse_scopes(text)
    assert refused.value.code == "invalid_scope"


@pytest.mark.parametrize(
    "uri", ["https://app.example/cb", "elk://callback", "com.example.app:/oauth", oauth.OOB_REDIRECT]
)
def test_redirect_uris_accepted(uri: str) -> None:
    assert oauth.check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "callback",
        "/callback",
        "javascript:alert(1)",
        "data:text/html,x",
        "https://a.example/#x",
        "https://a b",
    ],
)
def test_redirect_uris_refused(uri: str) -> None:
    with pytest.raises(OAuthError) as refused:
        oauth.check_redirect_uri(uri)
    assert refused.value.code == "invalid_request"


async def _member_token(session: AsyncSession, config: Config) -> tuple[str, oauth.IssuedToken]:
    await ensure_demo(session, config)
    _, user = await find_member(session, "ada")
    application, _ = await oauth.register_application(
        session, NewApplication(name="App", redirect_uris=(REDIRECT,), scopes="read write")
    )
    request = oauth.authorization_request(
        application,
        REDIRECT,
        response_type="code",
        scope="read",
        code_challenge=None,
        code_challenge_method=None,
    )
    code = await oauth.issue_code(session, request, user)
    issued = await oauth.exchange_code(session, application, code, redirect_uri=REDIRECT, code_verifier=None)
    return application.client_id, issued


async def test_token_holder_records_use_at_most_once_a_minute(session: AsyncSession, config: Config) -> None:
    _, issued = await _member_token(session, config)
    held = await oauth.token_holder(session, issued.access_token)
    assert held is not None and held[1] is not None and held[1][1].username == "ada"
    first_use = held[0].last_used_at
    assert first_use is not None
    again = await oauth.token_holder(session, issued.access_token)
    assert again is not None and again[0].last_used_at == first_use  # within the minute: not written

    held[0].last_used_at = utcnow() - timedelta(minutes=2)
    later = await oauth.token_holder(session, issued.access_token)
    assert later is not None and later[0].last_used_at is not None and later[0].last_used_at > first_use


async def test_token_holder_refuses_revoked_and_disabled(session: AsyncSession, config: Config) -> None:
    client_id, issued = await _member_token(session, config)
    assert await oauth.token_holder(session, "") is None
    assert await oauth.token_holder(session, "x" * 300) is None
    _, user = await find_member(session, "ada")
    user.disabled = True
    assert await oauth.token_holder(session, issued.access_token) is None
    user.disabled = False
    application = await oauth.find_application(session, client_id)
    assert issued.refresh_token is not None
    await oauth.revoke(
        session, application, issued.refresh_token
    )  # a refresh token ends its access token too
    assert await oauth.token_holder(session, issued.access_token) is None
    row = await session.scalar(select(OAuthToken))
    assert row is not None and row.revoked_at is not None


async def test_deleting_an_app_deletes_its_tokens(session: AsyncSession, config: Config) -> None:
    client_id, _ = await _member_token(session, config)
    await session.delete(await oauth.find_application(session, client_id))
    await session.flush()
    session.expunge_all()
    assert await session.scalar(select(OAuthToken)) is None
