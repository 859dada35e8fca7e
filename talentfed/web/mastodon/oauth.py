"""OAuth 2 endpoints of the Mastodon client API: registering apps, the consent page, tokens.

What is allowed is decided in `domain/oauth.py`; these handlers read parameters (form or JSON),
sign the member in through the web interface's own pages (`members_only`), and answer in
Mastodon's shapes: `{"error": code, "error_description": text}` from the OAuth endpoints,
`{"error": text}` with 422 from `POST /api/v1/apps`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import oauth
from talentfed.domain.oauth import NewApplication, OAuthError
from talentfed.storage.models import OAuthApplication
from talentfed.web.accounts import members_only
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.params import Params, ParamsError, read_params, text_param
from talentfed.web.pages import message
from talentfed.web.sessions import read_form, sign_out
from talentfed.web.templating import Viewer, render, viewer

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1: tokens are not cached
# The parameters of an authorization request, carried from the consent page to its POST.
AUTHORIZE_FIELDS = (
    "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
)  # fmt: skip
SCOPE_MEANINGS = {
    "read": "read everything your account can see",
    "write": "post, edit and delete on your behalf, and change your profile",
    "follow": "follow, block and mute accounts",
    "push": "receive push notifications",
    "profile": "see your name and profile only",
}
ERROR_STATUS = {"invalid_client": 401, "unauthorized_client": 403}  # the rest: 400 (RFC 6749 §5.2)


# --- parameters -------------------------------------------------------------------------


async def _params(request: Request) -> Params:
    try:
        return await read_params(request)
    except ParamsError as exc:
        raise OAuthError("invalid_request", str(exc)) from None


def _text(params: Params, name: str) -> str | None:
    try:
        return text_param(params, name)
    except ParamsError as exc:
        raise OAuthError("invalid_request", str(exc)) from None


def _required(params: Params, name: str) -> str:
    value = _text(params, name)
    if value is None:
        raise OAuthError("invalid_request", f"{name} is required")
    return value


def _redirect_uris(params: Params) -> tuple[str, ...]:
    """`redirect_uris` as Mastodon takes it: an array, or one string of lines."""
    value = params.get("redirect_uris") or []
    lines = value if isinstance(value, list) else [value]
    return tuple(uri for line in lines for uri in line.splitlines())


def _oauth_error(exc: OAuthError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": exc.code, "error_description": exc.description},
        status_code=ERROR_STATUS.get(exc.code, 400),
        headers={**NO_STORE, **(headers or {})},
    )


# --- apps -------------------------------------------------------------------------------


def _application_json(application: OAuthApplication) -> dict[str, Any]:
    return {
        "id": str(application.id),
        "name": application.name,
        "website": application.website,
        "scopes": application.scopes.split(),
        "redirect_uri": "\n".join(application.redirect_uris),
        "redirect_uris": list(application.redirect_uris),
        "vapid_key": "",  # no Web Push yet
    }


async def register_app(request: Request) -> Response:
    """POST /api/v1/apps: the client secret is in this answer and nowhere else."""
    try:
        params = await _params(request)
        new = NewApplication(
            name=_text(params, "client_name") or "",
            redirect_uris=_redirect_uris(params),
            scopes=_text(params, "scopes"),
            website=_text(params, "website"),
        )
        async with request.app.state.sessions.begin() as session:
            application, secret = await oauth.register_application(session, new)
    except OAuthError as exc:
        return JSONResponse({"error": f"Validation failed: {exc.description}"}, status_code=422)
    credentials = {"client_id": application.client_id, "client_secret": secret, "client_secret_expires_at": 0}
    return JSONResponse({**_application_json(application), **credentials}, headers=NO_STORE)


@scoped(None, user_required=False)
async def verify_app_credentials(request: Request, holder: Holder) -> Response:
    """GET /api/v1/apps/verify_credentials: the app the token belongs to, without its secret."""
    async with request.app.state.sessions() as session:
        application = await oauth.application_of(session, holder.token)
    return JSONResponse(_application_json(application))


# --- the consent page -------------------------------------------------------------------


def _with_params(uri: str, params: dict[str, str | None]) -> str:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


async def _checked_request(
    request: Request, params: QueryParams | FormData
) -> oauth.AuthorizationRequest | Response:
    """The authorization request, or the answer refusing it.

    An unknown client or redirect_uri is told to the member on a page: sending the browser to
    an unchecked address would make this server an open redirector (RFC 6749 §4.1.2.1). Any
    other refusal goes back to the app, with the state it sent.
    """

    def value(name: str) -> str | None:
        found = params.get(name)
        return found if isinstance(found, str) and found else None

    try:
        async with request.app.state.sessions() as session:
            application = await oauth.find_application(session, value("client_id") or "")
        redirect_uri = oauth.redirect_target(application, value("redirect_uri"))
    except OAuthError as exc:
        return await message(request, "This app cannot sign in here", exc.description, status_code=400)
    try:
        return oauth.authorization_request(
            application,
            redirect_uri,
            response_type=value("response_type") or "",
            scope=value("scope"),
            code_challenge=value("code_challenge"),
            code_challenge_method=value("code_challenge_method"),
        )
    except OAuthError as exc:
        return await _refuse(request, redirect_uri, exc.code, exc.description, value("state"))


async def _refuse(
    request: Request, redirect_uri: str, code: str, description: str, state: str | None
) -> Response:
    """A refusal for the app: on its redirect_uri, or on a page when the code would be shown (OOB)."""
    if redirect_uri == oauth.OOB_REDIRECT:
        return await message(request, "Not authorized", description, status_code=400)
    refusal = {"error": code, "error_description": description, "state": state}
    return RedirectResponse(_with_params(redirect_uri, refusal), status_code=303)


async def authorize_page(request: Request) -> Response:
    """GET /oauth/authorize: sign in (or again, with force_login), then approve or deny."""
    checked = await _checked_request(request, request.query_params)
    if isinstance(checked, Response):
        return checked
    if request.query_params.get("force_login") in ("true", "1") and await viewer(request) is not None:
        # The member wants to choose the account: sign out, and come back without the flag.
        sign_out(request)
        again = {key: value for key, value in request.query_params.items() if key != "force_login"}
        return RedirectResponse(f"{request.url.path}?{urlencode(again)}", status_code=303)

    async def consent(request: Request, me: Viewer) -> Response:
        return await _consent_page(request, me, checked)

    return await members_only(consent)(request)


async def _consent_page(request: Request, me: Viewer, checked: oauth.AuthorizationRequest) -> Response:
    carried = {name: request.query_params.get(name, "") for name in AUTHORIZE_FIELDS}
    carried["redirect_uri"] = checked.redirect_uri
    scopes = [(name, SCOPE_MEANINGS.get(name, "")) for name in checked.scopes]
    context = {"application": checked.application, "scopes": scopes, "carried": carried, "me": me}
    return await render(request, "oauth_authorize.html", context)


@members_only
async def authorize_decision(request: Request, me: Viewer) -> Response:
    """POST /oauth/authorize: the member approved (a code for the app) or denied."""
    form = await read_form(request)
    checked = await _checked_request(request, form)
    if isinstance(checked, Response):
        return checked
    state = form.get("state")
    state = state if isinstance(state, str) and state else None
    if form.get("decision") != "approve":
        denied = f"You did not give {checked.application.name} access."
        return await _refuse(request, checked.redirect_uri, "access_denied", denied, state)
    async with request.app.state.sessions.begin() as session:
        code = await oauth.issue_code(session, checked, me.user)
    if checked.redirect_uri == oauth.OOB_REDIRECT:
        context = {"application": checked.application, "code": code}
        return await render(request, "oauth_code.html", context, headers=NO_STORE)
    return RedirectResponse(
        _with_params(checked.redirect_uri, {"code": code, "state": state}), status_code=303
    )


# --- tokens -----------------------------------------------------------------------------


def _client_credentials(request: Request, params: Params) -> tuple[str, str]:
    """(client_id, client_secret): from HTTP Basic authentication, else from the body."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "the Basic credentials cannot be read") from None
        client_id, _, secret = decoded.partition(":")
        return unquote(client_id), unquote(secret)  # RFC 6749 §2.3.1: form-encoded first
    return _text(params, "client_id") or "", _text(params, "client_secret") or ""


GRANTS = ("authorization_code", "client_credentials", "refresh_token")


async def _grant(request: Request, params: Params) -> oauth.IssuedToken:
    grant_type = _required(params, "grant_type")
    if grant_type not in GRANTS:
        raise OAuthError("unsupported_grant_type", f"{grant_type}: this server grants {', '.join(GRANTS)}")
    client_id, secret = _client_credentials(request, params)
    async with request.app.state.sessions.begin() as session:
        try:
            return await _grant_in(session, grant_type, params, client_id, secret)
        except oauth.ReplayedCode as exc:
            refusal = exc  # refused, but the revocation of the code's tokens is committed
    raise refusal


async def _grant_in(
    session: AsyncSession, grant_type: str, params: Params, client_id: str, secret: str
) -> oauth.IssuedToken:
    application = await oauth.authenticate_client(session, client_id, secret)
    if grant_type == "authorization_code":
        return await oauth.exchange_code(
            session,
            application,
            _required(params, "code"),
            redirect_uri=_text(params, "redirect_uri"),
            code_verifier=_text(params, "code_verifier"),
        )
    if grant_type == "client_credentials":
        return await oauth.client_credentials_token(session, application, _text(params, "scope"))
    refresh_token = _required(params, "refresh_token")
    return await oauth.refresh_token_grant(session, application, refresh_token, _text(params, "scope"))


def _basic_challenge(request: Request) -> dict[str, str]:
    """RFC 6749 §5.2: a client that tried HTTP Basic is answered with a Basic challenge."""
    if request.headers.get("authorization", "").lower().startswith("basic"):
        return {"WWW-Authenticate": 'Basic realm="oauth"'}
    return {}


async def token(request: Request) -> Response:
    """POST /oauth/token."""
    try:
        issued = await _grant(request, await _params(request))
    except OAuthError as exc:
        return _oauth_error(exc, _basic_challenge(request) if exc.code == "invalid_client" else None)
    answer: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scopes,
        "created_at": int(issued.created_at.timestamp()),
    }
    if issued.refresh_token is not None:
        answer["refresh_token"] = issued.refresh_token
    return JSONResponse(answer, headers=NO_STORE)


async def revoke(request: Request) -> Response:
    """POST /oauth/revoke: 200 {} also for an unknown token (RFC 7009 §2.2)."""
    try:
        params = await _params(request)
        client_id, secret = _client_credentials(request, params)
        async with request.app.state.sessions.begin() as session:
            application = await oauth.authenticate_client(session, client_id, secret)
            await oauth.revoke(session, application, _required(params, "token"))
    except OAuthError as exc:
        return _oauth_error(exc, _basic_challenge(request) if exc.code == "invalid_client" else None)
    return JSONResponse({}, headers=NO_STORE)


# --- discovery --------------------------------------------------------------------------


async def authorization_server_metadata(request: Request) -> Response:
    """GET /.well-known/oauth-authorization-server (RFC 8414), as Mastodon 4.3 publishes it."""
    base = request.app.state.config.node.base_url.rstrip("/")
    document = {
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": list(oauth.KNOWN_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANTS),
        "code_challenge_methods_supported": list(oauth.PKCE_METHODS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }
    return JSONResponse(document, headers={"Access-Control-Allow-Origin": "*"})


routes = [
    Route("/api/v1/apps", register_app, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_app_credentials, methods=["GET"]),
    Route("/oauth/authorize", authorize_page, methods=["GET"]),
    Route("/oauth/authorize", authorize_decision, methods=["POST"]),
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/.well-known/oauth-authorization-server", authorization_server_metadata, methods=["GET"]),
]
