"""The Mastodon client API's OAuth, as Elk, Phanpy or Tusky drive it: register, sign in, consent,
code → token with PKCE, use, refresh, revoke; and each refusal with its status and OAuth code."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain.demo import DEMO_PASSWORD
from talentfed.storage.db import session_factory
from talentfed.storage.models import OAuthAuthorization, OAuthToken, User, utcnow
from talentfed.web import mastodon
from talentfed.web.mastodon.auth import Holder, scoped

REDIRECT = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


# --- a few endpoints behind `scoped`, added to the app's routes for these tests ---------


async def _who(request: Request, holder: Holder) -> Response:
    return JSONResponse(
        {"user": holder.user.username if holder.user else None, "reader": holder.viewer.actor_id}
    )


@pytest.fixture(autouse=True)
def scoped_test_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """create_app reads `mastodon.routes` when the demo client builds the app."""
    extra = [
        Route("/test/statuses", scoped("read:statuses")(_who)),
        Route("/test/post", scoped("write:statuses")(_who)),
        Route("/test/anyone", scoped("read:statuses", user_required=False)(_who)),
    ]
    monkeypatch.setattr(mastodon, "routes", [*mastodon.routes, *extra])


# --- helpers: what a client app and a member's browser do ------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_fields(html: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    return {name: unescape(value) for name, value in found}


async def register(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    data = {"client_name": "Test app", "redirect_uris": REDIRECT, "scopes": "read write follow", **fields}
    response = await client.post("/api/v1/apps", data=data)
    assert response.status_code == 200, response.text
    return response.json()


async def sign_in_from(client: httpx.AsyncClient, location: str, username: str = "ada") -> httpx.Response:
    """Follow a redirect to the sign-in page and sign in there; answers the redirect back."""
    page = await client.get(location)
    fields = hidden_fields(page.text)
    return await client.post("/sign-in", data={**fields, "username": username, "password": DEMO_PASSWORD})


def authorize_params(app: dict[str, Any], **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "read write",
        "state": "s-123",
        **overrides,
    }


async def approve(
    client: httpx.AsyncClient, params: dict[str, str], decision: str = "approve"
) -> httpx.Response:
    """Open the consent page (signing in as ada first if needed) and answer it."""
    page = await client.get("/oauth/authorize", params=params)
    if page.status_code == 303:
        assert page.headers["location"].startswith("/sign-in?next=")
        back = await sign_in_from(client, page.headers["location"])
        assert back.status_code == 303 and back.headers["location"].startswith("/oauth/authorize?")
        page = await client.get(back.headers["location"])
    assert page.status_code == 200, page.text
    return await client.post("/oauth/authorize", data={**hidden_fields(page.text), "decision": decision})


def redirected_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def code_for(client: httpx.AsyncClient, app: dict[str, Any], **overrides: str) -> str:
    query = redirected_query(await approve(client, authorize_params(app, **overrides)))
    assert query["state"] == overrides.get("state", "s-123")
    return query["code"]


async def token_request(client: httpx.AsyncClient, app: dict[str, Any], **fields: str) -> httpx.Response:
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    return await client.post("/oauth/token", data={**credentials, **fields})


async def member_token(client: httpx.AsyncClient, app: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """ada approves `app` and the app trades the code: the token answer."""
    code = await code_for(client, app, **overrides)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    issued = await token_request(client, app, **fields)
    assert issued.status_code == 200, issued.text
    return {**issued.json(), "code": code}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_oauth_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code, response.text
    assert response.json()["error_description"]


# --- registering apps -------------------------------------------------------------------


async def test_register_with_form_and_json_strings_and_arrays(demo_client: httpx.AsyncClient) -> None:
    form = await register(demo_client, redirect_uris=f"{REDIRECT}\n{OOB}", website="https://app.example")
    assert form["name"] == "Test app" and form["website"] == "https://app.example"
    assert form["redirect_uris"] == [REDIRECT, OOB] and form["redirect_uri"] == f"{REDIRECT}\n{OOB}"
    assert form["scopes"] == ["read", "write", "follow"]
    assert form["client_secret_expires_at"] == 0 and form["vapid_key"] == ""
    assert isinstance(form["id"], str) and form["client_id"] and form["client_secret"]

    as_array = await demo_client.post(
        "/api/v1/apps", data={"client_name": "Array", "redirect_uris[]": [REDIRECT, "elk://callback"]}
    )
    assert as_array.json()["redirect_uris"] == [REDIRECT, "elk://callback"]
    assert as_array.json()["scopes"] == ["read"]  # Mastodon's default

    json_array = await demo_client.post(
        "/api/v1/apps", json={"client_name": "J", "redirect_uris": [REDIRECT, OOB], "scopes": "read:statuses"}
    )
    json_string = await demo_client.post("/api/v1/apps", json={"client_name": "J", "redirect_uris": REDIRECT})
    assert json_array.json()["redirect_uris"] == [REDIRECT, OOB]
    assert json_array.json()["scopes"] == ["read:statuses"]
    assert json_string.json()["redirect_uris"] == [REDIRECT]


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"client_name": ""}, "name"),
        ({"client_name": "x" * 256}, "name"),
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"redirect_uris": "/relative/callback"}, "redirect_uri"),
        ({"redirect_uris": "javascript:alert(1)"}, "redirect_uri"),
        ({"redirect_uris": "https://app.example/cb#fragment"}, "fragment"),
        ({"scopes": "read admin:read"}, "admin"),
        ({"scopes": "read telepathy"}, "telepathy"),
        ({"website": "ftp://app.example"}, "website"),
    ],
)
async def test_register_refusals_are_422(demo_client: httpx.AsyncClient, fields: dict, says: str) -> None:
    data = {"client_name": "Test app", "redirect_uris": REDIRECT, **fields}
    response = await demo_client.post("/api/v1/apps", data=data)
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith("Validation failed") and says in response.json()["error"]


async def test_register_refuses_a_body_that_is_not_json(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.post(
        "/api/v1/apps", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


# --- the whole flow ---------------------------------------------------------------------


async def test_sign_in_consent_pkce_token_use_refresh_revoke(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    verifier, challenge = pkce_pair()
    params = authorize_params(app, code_challenge=challenge, code_challenge_method="S256")

    consent = await demo_client.get("/oauth/authorize", params=params)
    assert consent.status_code == 303  # nobody is signed in: the sign-in page, then back
    back = await sign_in_from(demo_client, consent.headers["location"])
    page = await demo_client.get(back.headers["location"])
    assert page.status_code == 200 and "Authorize Test app?" in page.text and "@ada@" in page.text
    assert "<code>read</code>" in page.text and "<code>write</code>" in page.text
    decided = await demo_client.post(
        "/oauth/authorize", data={**hidden_fields(page.text), "decision": "approve"}
    )
    query = redirected_query(decided)
    assert query["state"] == "s-123"

    issued = await token_request(
        demo_client,
        app,
        grant_type="authorization_code",
        code=query["code"],
        redirect_uri=REDIRECT,
        code_verifier=verifier,
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert isinstance(body["created_at"], int) and body["refresh_token"]
    assert issued.headers["cache-control"] == "no-store"

    verified = await demo_client.get("/api/v1/apps/verify_credentials", headers=bearer(body["access_token"]))
    assert verified.status_code == 200 and verified.json()["name"] == "Test app"
    assert "client_secret" not in verified.json()
    who = await demo_client.get("/test/statuses", headers=bearer(body["access_token"]))
    assert who.status_code == 200 and who.json()["user"] == "ada" and who.json()["reader"]

    refreshed = await token_request(
        demo_client, app, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["refresh_token"] != body["refresh_token"] and new["scope"] == "read write"
    assert (await demo_client.get("/test/statuses", headers=bearer(body["access_token"]))).status_code == 401
    again = await token_request(
        demo_client, app, grant_type="refresh_token", refresh_token=body["refresh_token"]
    )
    assert_oauth_error(again, 400, "invalid_grant")

    assert (await demo_client.get("/test/statuses", headers=bearer(new["access_token"]))).status_code == 200
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    revoked = await demo_client.post("/oauth/revoke", data={**credentials, "token": new["access_token"]})
    assert revoked.status_code == 200 and revoked.json() == {}
    gone = await demo_client.get("/test/statuses", headers=bearer(new["access_token"]))
    assert gone.status_code == 401 and gone.json() == {"error": "The access token is invalid"}


async def test_out_of_band_shows_the_code_and_deny_redirects_with_access_denied(
    demo_client: httpx.AsyncClient,
) -> None:
    app = await register(demo_client, redirect_uris=f"{REDIRECT}\n{OOB}")
    shown = await approve(demo_client, authorize_params(app, redirect_uri=OOB))
    assert shown.status_code == 200
    code = re.search(r'<code id="authorization-code">([^<]+)</code>', shown.text)
    assert code
    issued = await token_request(
        demo_client, app, grant_type="authorization_code", code=unescape(code.group(1)), redirect_uri=OOB
    )
    assert issued.status_code == 200, issued.text

    denied = redirected_query(await approve(demo_client, authorize_params(app), decision="deny"))
    assert denied["error"] == "access_denied" and denied["state"] == "s-123" and "code" not in denied


async def test_force_login_signs_out_first(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    await code_for(demo_client, app)  # ada is signed in now
    forced = await demo_client.get("/oauth/authorize", params=authorize_params(app, force_login="true"))
    assert forced.status_code == 303 and "force_login" not in forced.headers["location"]
    to_sign_in = await demo_client.get(forced.headers["location"])
    assert to_sign_in.status_code == 303 and to_sign_in.headers["location"].startswith("/sign-in?next=")
    back = await sign_in_from(demo_client, to_sign_in.headers["location"], username="grace")
    page = await demo_client.get(back.headers["location"])
    assert "@grace@" in page.text


async def test_client_credentials_token_has_no_user(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    issued = await token_request(demo_client, app, grant_type="client_credentials", scope="read")
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["scope"] == "read" and "refresh_token" not in body
    headers = bearer(body["access_token"])
    assert (await demo_client.get("/api/v1/apps/verify_credentials", headers=headers)).status_code == 200
    anyone = await demo_client.get("/test/anyone", headers=headers)
    assert anyone.json() == {"user": None, "reader": None}
    needs_user = await demo_client.get("/test/statuses", headers=headers)
    assert needs_user.status_code == 422
    assert needs_user.json() == {"error": "This method requires an authenticated user"}


async def test_client_authentication_by_http_basic(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    issued = await demo_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert issued.status_code == 200, issued.text
    wrong = base64.b64encode(f"{app['client_id']}:nope".encode()).decode()
    refused = await demo_client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {wrong}"}
    )
    assert_oauth_error(refused, 401, "invalid_client")
    assert refused.headers["www-authenticate"].startswith("Basic")


async def test_token_endpoint_takes_json(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    issued = await demo_client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert issued.status_code == 200 and issued.json()["scope"] == "read"


# --- scopes on endpoints ----------------------------------------------------------------


async def test_scoped_endpoints_answer_mastodons_refusals(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    headers = bearer((await member_token(demo_client, app, scope="read:statuses"))["access_token"])
    assert (await demo_client.get("/test/statuses", headers=headers)).status_code == 200
    outside = await demo_client.get("/test/post", headers=headers)
    assert outside.status_code == 403
    assert outside.json() == {"error": "This action is outside the authorized scopes"}
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        refused = await demo_client.get("/test/statuses", headers=headers)
        assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}


async def test_a_disabled_members_tokens_stop_working(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    app = await register(demo_client)
    issued = await member_token(demo_client, app)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(User).where(User.username == "ada").values(disabled=True))
    refused = await demo_client.get("/test/statuses", headers=bearer(issued["access_token"]))
    assert refused.status_code == 401


# --- refusals at the token endpoint -----------------------------------------------------


async def test_wrong_pkce_verifier_and_missing_verifier(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    _, challenge = pkce_pair()
    for verifier in ("wrong-" + "x" * 43, None):
        code = await code_for(demo_client, app, code_challenge=challenge, code_challenge_method="S256")
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        refused = await token_request(
            demo_client, app, **fields, **({"code_verifier": verifier} if verifier else {})
        )
        assert_oauth_error(refused, 400, "invalid_grant")


async def test_a_code_works_once(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    code = (await member_token(demo_client, app))["code"]
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert_oauth_error(await token_request(demo_client, app, **fields), 400, "invalid_grant")


async def test_an_expired_code_is_refused(demo_client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    app = await register(demo_client)
    code = await code_for(demo_client, app)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(update(OAuthAuthorization).values(expires_at=utcnow() - timedelta(seconds=1)))
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert_oauth_error(await token_request(demo_client, app, **fields), 400, "invalid_grant")


async def test_a_code_with_another_redirect_uri_or_of_another_app(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client, redirect_uris=f"{REDIRECT}\nhttps://app.example/other")
    other_app = await register(demo_client)
    code = await code_for(demo_client, app)
    fields = {"grant_type": "authorization_code", "code": code}
    elsewhere = await token_request(demo_client, app, **fields, redirect_uri="https://app.example/other")
    assert_oauth_error(elsewhere, 400, "invalid_grant")
    assert_oauth_error(
        await token_request(demo_client, other_app, **fields, redirect_uri=REDIRECT), 400, "invalid_grant"
    )


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"grant_type": "password", "username": "ada", "password": "x"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "client_credentials", "client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "unknown"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "scope": "read write push"}, 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "admin:read"}, 400, "invalid_scope"),
        ({"grant_type": "authorization_code", "redirect_uri": REDIRECT}, 400, "invalid_request"),
        (
            {"grant_type": "authorization_code", "code": "made-up", "redirect_uri": REDIRECT},
            400,
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, 400, "invalid_grant"),
    ],
)
async def test_token_refusals(demo_client: httpx.AsyncClient, fields: dict, status: int, code: str) -> None:
    app = await register(demo_client)
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    refused = await demo_client.post("/oauth/token", data={**credentials, **fields})
    assert_oauth_error(refused, status, code)


# --- refusals at the authorization endpoint ---------------------------------------------


async def test_unknown_client_or_redirect_uri_is_a_page_never_a_redirect(
    demo_client: httpx.AsyncClient,
) -> None:
    app = await register(demo_client)
    for params in (
        authorize_params(app, client_id="unknown"),
        authorize_params(app, redirect_uri="https://evil.example/steal"),
    ):
        page = await demo_client.get("/oauth/authorize", params=params)
        assert page.status_code == 400 and "cannot sign in here" in page.text


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"scope": "read write push"}, "invalid_scope"),  # beyond the app's scopes
        ({"scope": "admin:read"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
async def test_authorization_refusals_go_back_to_the_app(
    demo_client: httpx.AsyncClient, overrides: dict, code: str
) -> None:
    app = await register(demo_client)
    refused = await demo_client.get("/oauth/authorize", params=authorize_params(app, **overrides))
    query = redirected_query(refused)
    assert query["error"] == code and query["state"] == "s-123"


async def test_consent_post_needs_the_csrf_token(demo_client: httpx.AsyncClient) -> None:
    app = await register(demo_client)
    await code_for(demo_client, app)
    forged = await demo_client.post("/oauth/authorize", data={**authorize_params(app), "decision": "approve"})
    assert forged.status_code == 403


# --- revoking ---------------------------------------------------------------------------


async def test_revoke_unknown_token_bad_client_and_another_apps_token(demo_client: httpx.AsyncClient) -> None:
    app, other = await register(demo_client), await register(demo_client)
    issued = await token_request(demo_client, app, grant_type="client_credentials")
    token = issued.json()["access_token"]
    other_credentials = {"client_id": other["client_id"], "client_secret": other["client_secret"]}
    unknown = await demo_client.post("/oauth/revoke", data={**other_credentials, "token": "never-issued"})
    assert unknown.status_code == 200 and unknown.json() == {}
    bad_client = await demo_client.post(
        "/oauth/revoke", data={"client_id": app["client_id"], "client_secret": "wrong", "token": token}
    )
    assert_oauth_error(bad_client, 401, "invalid_client")
    not_its_own = await demo_client.post("/oauth/revoke", data={**other_credentials, "token": token})
    assert_oauth_error(not_its_own, 403, "unauthorized_client")
    assert (await demo_client.get("/test/anyone", headers=bearer(token))).status_code == 200


# --- storage and discovery --------------------------------------------------------------


async def test_secrets_and_tokens_are_stored_hashed(
    demo_client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    app = await register(demo_client)
    body = await member_token(demo_client, app)
    code = body["code"]
    async with engine.connect() as connection:
        stored = [
            repr(row)
            for table in ("oauth_applications", "oauth_authorizations", "oauth_tokens")
            for row in await connection.execute(text(f"SELECT * FROM {table}"))
        ]
    dump = "\n".join(stored)
    for secret in (app["client_secret"], code, body["access_token"], body["refresh_token"]):
        assert secret not in dump
    async with session_factory(engine)() as session:
        row = await session.scalar(select(OAuthToken))
    assert row is not None and row.token_hash == hashlib.sha256(body["access_token"].encode()).hexdigest()


async def test_authorization_server_metadata(demo_client: httpx.AsyncClient) -> None:
    response = await demo_client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    document = response.json()
    base = str(demo_client.base_url).rstrip("/")
    assert document["issuer"] == f"{base}/"
    assert document["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert document["token_endpoint"] == f"{base}/oauth/token"
    assert document["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert document["app_registration_endpoint"] == f"{base}/api/v1/apps"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "client_credentials",
        "refresh_token",
    }
    assert "read:statuses" in document["scopes_supported"]
    assert not any(scope.startswith("admin") for scope in document["scopes_supported"])
