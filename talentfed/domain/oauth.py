"""OAuth 2 for the Mastodon client API: apps, authorization codes, tokens, scopes.

Mastodon's behaviour is the standard (docs.joinmastodon.org, /methods/apps and /methods/oauth):
apps register themselves, a member approves an app's scopes in the browser, the app trades the
authorization code for a bearer token (PKCE with S256 only). Client secrets, codes, access and
refresh tokens are random, shown once and stored only as SHA-256. Refusals are `OAuthError`s
carrying RFC 6749's error code; the web layer turns them into answers.

No admin scopes: this server offers no Mastodon admin API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from talentfed.domain.stored_secrets import could_be_drawn, digest, new_secret
from talentfed.federation.limits import http_url
from talentfed.storage.db import rowcount
from talentfed.storage.models import Actor, OAuthApplication, OAuthAuthorization, OAuthToken, User, utcnow

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"  # the code is shown to the member, who pastes it
CODE_LIFETIME = timedelta(minutes=10)
LAST_USED_PRECISION = timedelta(minutes=1)  # a token used often is written at most once a minute
MAX_NAME = 255
MAX_URI = 2048
MAX_REDIRECT_URIS = 20
DEFAULT_SCOPES = "read"
PKCE_METHODS = ("S256",)  # as Mastodon: "plain" would let a stolen code be traded as it is

TOP_SCOPES = ("read", "write", "follow", "push", "profile")
SUB_SCOPES = (
    *(f"read:{name}" for name in (
        "accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
        "notifications", "search", "statuses",
    )),
    *(f"write:{name}" for name in (
        "accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
        "media", "mutes", "notifications", "reports", "statuses",
    )),
)  # fmt: skip
KNOWN_SCOPES = (*TOP_SCOPES, *SUB_SCOPES)
# The legacy `follow` scope stands for these, as in Mastodon.
FOLLOW_SCOPES = frozenset(
    ("read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes")
)

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
# Absolute URIs that would run or read something in the browser instead of reaching the app.
_REFUSED_SCHEMES = frozenset(("javascript", "data", "vbscript", "file", "blob"))
_PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}\Z")  # RFC 7636 §4.2


class OAuthError(Exception):
    """A refusal with RFC 6749's error code (invalid_client, invalid_grant, invalid_request,
    invalid_scope, unsupported_grant_type, unauthorized_client, ...) and a description."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ReplayedCode(OAuthError):
    """An authorization code presented again: refused, and the tokens issued for it were revoked
    in the caller's session, which must commit them although the request is refused."""

    def __init__(self) -> None:
        super().__init__("invalid_grant", "the authorization code was already used")


# --- scopes -----------------------------------------------------------------------------


def parse_scopes(text: str | None, *, default: str = DEFAULT_SCOPES) -> tuple[str, ...]:
    """Space-separated scopes, each known, in the order given without repeats; empty → default."""
    names = tuple(dict.fromkeys((text or "").split())) or tuple(default.split())
    for name in names:
        if name.startswith("admin:") or name == "admin":
            raise OAuthError("invalid_scope", f"{name}: this server offers no admin scopes")
        if name not in KNOWN_SCOPES:
            raise OAuthError("invalid_scope", f"{name}: not a scope this server knows")
    return names


def grants(token_scopes: Iterable[str], needed: str) -> bool:
    """Whether scopes held cover `needed`: itself, its parent (read → read:x), or `follow`."""
    held = set(token_scopes)
    parent = needed.partition(":")[0]
    return needed in held or parent in held or (needed in FOLLOW_SCOPES and "follow" in held)


def _within(requested: Sequence[str], allowed: Iterable[str]) -> tuple[str, ...]:
    allowed = tuple(allowed)
    beyond = [name for name in requested if not grants(allowed, name)]
    if beyond:
        raise OAuthError("invalid_scope", f"not granted to this app: {' '.join(beyond)}")
    return tuple(requested)


# --- secrets ----------------------------------------------------------------------------


# --- apps -------------------------------------------------------------------------------


def check_redirect_uri(uri: str) -> str:
    """An absolute URI the browser may be sent back to (an app's own scheme counts), or OOB."""
    if uri == OOB_REDIRECT:
        return uri
    if len(uri) > MAX_URI or any(char.isspace() for char in uri):
        raise OAuthError("invalid_request", f"redirect_uri {uri[:80]!r}: not an absolute URI")
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    if (
        parts is None
        or not _SCHEME.match(parts.scheme)
        or not (parts.netloc or parts.path)
        or parts.scheme in _REFUSED_SCHEMES
    ):
        raise OAuthError("invalid_request", f"redirect_uri {uri[:80]!r}: not an absolute URI")
    if parts.fragment:
        raise OAuthError("invalid_request", f"redirect_uri {uri[:80]!r}: must not have a fragment")
    return uri


@dataclass(frozen=True)
class NewApplication:
    name: str
    redirect_uris: tuple[str, ...]
    scopes: str | None = None
    website: str | None = None


async def register_application(session: AsyncSession, new: NewApplication) -> tuple[OAuthApplication, str]:
    """Store a new app; returns it with its client secret, which is never shown again."""
    name = new.name.strip()
    if not name:
        raise OAuthError("invalid_request", "name: can't be blank")
    if len(name) > MAX_NAME:
        raise OAuthError("invalid_request", f"name: at most {MAX_NAME} characters")
    uris = tuple(dict.fromkeys(uri.strip() for uri in new.redirect_uris if uri.strip()))
    if not uris:
        raise OAuthError("invalid_request", "redirect_uris: can't be blank")
    if len(uris) > MAX_REDIRECT_URIS:
        raise OAuthError("invalid_request", f"redirect_uris: at most {MAX_REDIRECT_URIS}")
    website = (new.website or "").strip() or None
    if website is not None and http_url(website) is None:
        raise OAuthError("invalid_request", "website: not an http(s) URL")
    secret = new_secret()
    application = OAuthApplication(
        client_id=new_secret(),
        client_secret_hash=digest(secret),
        name=name,
        website=website,
        redirect_uris=[check_redirect_uri(uri) for uri in uris],
        scopes=" ".join(parse_scopes(new.scopes)),
    )
    session.add(application)
    await session.flush()
    return application, secret


async def find_application(session: AsyncSession, client_id: str) -> OAuthApplication:
    """The app with this client_id (no secret: the public half of an authorization request)."""
    application = (
        await session.scalar(select(OAuthApplication).where(OAuthApplication.client_id == client_id))
        if could_be_drawn(client_id)
        else None
    )
    if application is None:
        raise OAuthError("invalid_client", "unknown client_id")
    return application


async def authenticate_client(session: AsyncSession, client_id: str, client_secret: str) -> OAuthApplication:
    """The app whose credentials these are; invalid_client for anything else."""
    try:
        application = await find_application(session, client_id)
    except OAuthError:
        application = None
    if application is None or not hmac.compare_digest(
        application.client_secret_hash, digest(client_secret or "")
    ):
        raise OAuthError("invalid_client", "client authentication failed")
    return application


# --- authorization codes ----------------------------------------------------------------


def redirect_target(application: OAuthApplication, redirect_uri: str | None) -> str:
    """The redirect_uri asked for, which must be one the app registered; optional when it has one."""
    if not redirect_uri and len(application.redirect_uris) == 1:
        return application.redirect_uris[0]
    if redirect_uri not in application.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri: not one this app registered")
    return redirect_uri


@dataclass(frozen=True)
class AuthorizationRequest:
    """What the member is asked to approve: checked before the consent page and again on approval."""

    application: OAuthApplication
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None


def authorization_request(
    application: OAuthApplication,
    redirect_uri: str,
    *,
    response_type: str,
    scope: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Check an authorization request whose client and redirect_uri are already known good."""
    if response_type != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    scopes = _within(parse_scopes(scope), application.scopes.split())
    challenge, method = code_challenge or None, code_challenge_method or None
    if challenge is None and method is not None:
        raise OAuthError("invalid_request", "code_challenge_method without a code_challenge")
    if challenge is not None:
        if method not in PKCE_METHODS:
            raise OAuthError("invalid_request", "code_challenge_method must be S256")
        if not _PKCE_CHALLENGE.match(challenge):
            raise OAuthError("invalid_request", "code_challenge: 43 to 128 URL-safe characters")
    return AuthorizationRequest(application, redirect_uri, scopes, challenge, method)


async def issue_code(session: AsyncSession, request: AuthorizationRequest, user: User) -> str:
    """The member approved: a single-use code valid for ten minutes."""
    code = new_secret()
    session.add(
        OAuthAuthorization(
            code_hash=digest(code),
            application_id=request.application.id,
            user_id=user.id,
            scopes=" ".join(request.scopes),
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    await session.flush()
    return code


# --- tokens -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A token as answered to the app, the only time its plaintext exists."""

    access_token: str
    refresh_token: str | None
    scopes: str
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """What a new token is for: its member (None for the app's own token), its scopes, and the
    authorization code it comes from (kept through refreshes, for the revocation of a replay)."""

    user_id: int | None
    scopes: str
    authorization_id: int | None = None


async def _issue_token(
    session: AsyncSession, application: OAuthApplication, grant: Grant, *, refresh: bool
) -> IssuedToken:
    access, refresh_token = new_secret(), (new_secret() if refresh else None)
    row = OAuthToken(
        token_hash=digest(access),
        refresh_token_hash=digest(refresh_token) if refresh_token else None,
        application_id=application.id,
        user_id=grant.user_id,
        authorization_id=grant.authorization_id,
        scopes=grant.scopes,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(access, refresh_token, grant.scopes, row.created_at)


async def _end_all(
    session: AsyncSession, ended: InstrumentedAttribute[datetime | None], *where: ColumnElement[bool]
) -> int:
    """Set `ended` (a code's used_at, a token's revoked_at) now on the rows `where` selects that
    have not ended yet, in one conditional UPDATE; how many ended."""
    result = await session.execute(
        update(ended.class_).where(ended.is_(None), *where).values({ended: utcnow()})
    )
    return rowcount(result)


async def _end_once(
    session: AsyncSession, ended: InstrumentedAttribute[datetime | None], row_id: int
) -> bool:
    """End one code or token: of two concurrent requests presenting the same code or refresh
    token, only one wins (True)."""
    return await _end_all(session, ended, ended.class_.id == row_id) == 1


async def _may_sign_in(session: AsyncSession, user_id: int) -> bool:
    user = await session.get(User, user_id)
    return user is not None and not user.disabled


def _pkce_matches(authorization: OAuthAuthorization, verifier: str | None) -> bool:
    if authorization.code_challenge is None:
        return True  # no challenge was made: the client secret alone authenticates the app
    if not verifier or len(verifier) > 128:
        return False
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return hmac.compare_digest(expected, authorization.code_challenge)


async def exchange_code(
    session: AsyncSession,
    application: OAuthApplication,
    code: str,
    *,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> IssuedToken:
    """authorization_code grant: a member's token for a code of this app, once.

    A code presented again is refused with `ReplayedCode`, and the tokens issued for it are
    revoked (RFC 6749 §4.1.2): someone other than the app may have had it. Of two concurrent
    presentations one wins the conditional update of `used_at`; the other is the replay.
    """
    authorization = await session.scalar(
        select(OAuthAuthorization).where(
            OAuthAuthorization.code_hash == digest(code or ""),
            OAuthAuthorization.application_id == application.id,
        )
    )
    if authorization is None:
        raise OAuthError("invalid_grant", "the authorization code is unknown")
    if authorization.used_at is not None:
        await _revoke_replayed(session, authorization.id)
    if authorization.expires_at <= utcnow():
        raise OAuthError("invalid_grant", "the authorization code has expired")
    if redirect_uri != authorization.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request's")
    if not _pkce_matches(authorization, code_verifier):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    if not await _end_once(session, OAuthAuthorization.used_at, authorization.id):
        await _revoke_replayed(session, authorization.id)  # the other request redeemed it first
    if not await _may_sign_in(session, authorization.user_id):
        raise OAuthError("invalid_grant", "the member who approved this app cannot sign in")
    grant = Grant(authorization.user_id, authorization.scopes, authorization.id)
    return await _issue_token(session, application, grant, refresh=True)


async def _revoke_replayed(session: AsyncSession, authorization_id: int) -> NoReturn:
    """Revoke every live token issued for this code (refreshed ones too), then refuse."""
    await _end_all(session, OAuthToken.revoked_at, OAuthToken.authorization_id == authorization_id)
    raise ReplayedCode()


async def client_credentials_token(
    session: AsyncSession, application: OAuthApplication, scope: str | None
) -> IssuedToken:
    """client_credentials grant: the app's own token, no member, no refresh token (RFC 6749 §4.4.3)."""
    scopes = _within(parse_scopes(scope), application.scopes.split())
    return await _issue_token(session, application, Grant(None, " ".join(scopes)), refresh=False)


async def refresh_token_grant(
    session: AsyncSession, application: OAuthApplication, refresh_token: str, scope: str | None
) -> IssuedToken:
    """refresh_token grant: a new pair for the old one, which stops working (rotation)."""
    old = await session.scalar(
        select(OAuthToken).where(
            OAuthToken.refresh_token_hash == digest(refresh_token or ""),
            OAuthToken.application_id == application.id,
            OAuthToken.revoked_at.is_(None),
        )
    )
    if old is None:
        raise OAuthError("invalid_grant", "the refresh token is unknown or was revoked")
    scopes = old.scopes.split()
    if scope:  # a narrower set may be asked for, never a wider one (RFC 6749 §6)
        scopes = list(_within(parse_scopes(scope), scopes))
    if not await _end_once(session, OAuthToken.revoked_at, old.id):
        raise OAuthError("invalid_grant", "the refresh token was already used")
    if old.user_id is not None and not await _may_sign_in(session, old.user_id):
        raise OAuthError("invalid_grant", "the member of this token cannot sign in")
    grant = Grant(old.user_id, " ".join(scopes), old.authorization_id)
    return await _issue_token(session, application, grant, refresh=True)


async def revoke(session: AsyncSession, application: OAuthApplication, token: str) -> None:
    """End an access or refresh token of this app at once; an unknown token is no error (RFC 7009)."""
    hashed = digest(token or "")
    row = await session.scalar(
        select(OAuthToken).where(
            or_(OAuthToken.token_hash == hashed, OAuthToken.refresh_token_hash == hashed)
        )
    )
    if row is None:
        return
    if row.application_id != application.id:
        raise OAuthError("unauthorized_client", "this token belongs to another app")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()


async def token_holder(
    session: AsyncSession, bearer: str
) -> tuple[OAuthToken, tuple[Actor, User] | None] | None:
    """The live token for this bearer string and its member (None for an app's own token);
    None when unknown, revoked, or its member is disabled or gone."""
    if not bearer or len(bearer) > 256:
        return None
    # One round trip: apps send the token with every request.
    row = (
        await session.execute(
            select(OAuthToken, Actor, User)
            .outerjoin(User, User.id == OAuthToken.user_id)
            .outerjoin(Actor, Actor.id == User.actor_id)
            .where(OAuthToken.token_hash == digest(bearer), OAuthToken.revoked_at.is_(None))
        )
    ).first()
    if row is None:
        return None
    token, actor, user = row
    member = None
    if token.user_id is not None:
        if actor is None or user is None or user.disabled:
            return None
        member = (actor, user)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        await session.flush()
    return token, member


async def application_of(session: AsyncSession, token: OAuthToken) -> OAuthApplication:
    application = await session.get(OAuthApplication, token.application_id)
    assert application is not None  # the foreign key cascades: a token outlives no app
    return application


# --- the apps a member authorized -------------------------------------------------------


@dataclass(frozen=True)
class AuthorizedApp:
    """An app holding live tokens of a member, as the member's settings show it."""

    application: OAuthApplication
    scopes: tuple[str, ...]  # every scope its tokens hold, in the order first granted
    authorized_at: datetime  # when the member approved it (the oldest live grant)
    last_used_at: datetime | None


async def authorized_apps(session: AsyncSession, user: User) -> list[AuthorizedApp]:
    """The apps that can act for this member now, the most recently used first."""
    rows = await session.execute(
        select(OAuthToken, OAuthApplication, OAuthAuthorization.created_at)
        .join(OAuthApplication, OAuthApplication.id == OAuthToken.application_id)
        .outerjoin(OAuthAuthorization, OAuthAuthorization.id == OAuthToken.authorization_id)
        .where(OAuthToken.user_id == user.id, OAuthToken.revoked_at.is_(None))
        .order_by(OAuthToken.id)
    )
    grouped: dict[int, list[tuple[OAuthToken, datetime]]] = {}
    applications: dict[int, OAuthApplication] = {}
    for token, application, approved_at in rows:
        applications[application.id] = application
        grouped.setdefault(application.id, []).append((token, approved_at or token.created_at))
    found = [_authorized(applications[app_id], tokens) for app_id, tokens in grouped.items()]
    return sorted(found, key=lambda app: app.last_used_at or app.authorized_at, reverse=True)


def _authorized(application: OAuthApplication, tokens: list[tuple[OAuthToken, datetime]]) -> AuthorizedApp:
    scopes = dict.fromkeys(name for token, _ in tokens for name in token.scopes.split())
    used = [token.last_used_at for token, _ in tokens if token.last_used_at is not None]
    return AuthorizedApp(
        application=application,
        scopes=tuple(scopes),
        authorized_at=min(approved_at for _, approved_at in tokens),
        last_used_at=max(used, default=None),
    )


async def revoke_application(session: AsyncSession, user: User, application_id: int) -> bool:
    """End at once every token this app holds for this member, and the codes it has not traded
    yet; False when the app holds none (never authorized, already revoked, or not this member's)."""
    tokens = await _end_all(
        session,
        OAuthToken.revoked_at,
        OAuthToken.application_id == application_id,
        OAuthToken.user_id == user.id,
    )
    codes = await _end_all(
        session,
        OAuthAuthorization.used_at,  # an unused code ended is refused as a replay
        OAuthAuthorization.application_id == application_id,
        OAuthAuthorization.user_id == user.id,
        OAuthAuthorization.expires_at > utcnow(),
    )
    return tokens + codes > 0
