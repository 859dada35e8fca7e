"""Signed session cookies and CSRF tokens for the web interface.

The session is a small dict (who is signed in, the CSRF token) kept in the browser in a
cookie signed with itsdangerous, `HttpOnly` and `SameSite=Lax` (`Secure` when the node is
served over https). Nothing is stored on the server, so signing out everywhere is done by
changing the password: the cookie carries a fingerprint of the password hash it was made with.

Every form carries the session's CSRF token; `read_form` refuses a POST without it (403).
Cross-site requests do not carry a SameSite=Lax cookie on POST, and the token closes the rest.
"""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from talentfed.storage.models import MAX_ROW_ID
from talentfed.web.bodies import BodyTooLarge, read_body

COOKIE = "talentfed_session"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 2 * 1024 * 1024  # a 100,000-character post with room to spare


class FormRefused(Exception):
    """A form POST refused before its fields are looked at (403 CSRF, 413 too large)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SessionMiddleware:
    """Puts the signed cookie's dict in `scope["session"]` and writes it back when it changed."""

    def __init__(self, app: ASGIApp, *, secret: str, max_age_seconds: int, https_only: bool) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(secret, salt="talentfed-session")
        self.max_age = max_age_seconds
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self._load(scope)
        before = json.dumps(session, sort_keys=True)
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                after = json.dumps(scope["session"], sort_keys=True)
                if after != before:
                    MutableHeaders(scope=message).append("Set-Cookie", self._cookie(scope["session"]))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _load(self, scope: Scope) -> dict[str, Any]:
        raw = _cookie_value(scope, COOKIE)
        if not raw:
            return {}
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except BadSignature:  # also an expired cookie (SignatureExpired)
            return {}
        return data if isinstance(data, dict) else {}

    def _cookie(self, session: dict[str, Any]) -> str:
        attributes = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.https_only else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0; {attributes}"
        value = self.serializer.dumps(session)
        return f"{COOKIE}={value}; Max-Age={self.max_age}; {attributes}"


def _cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            cookie_name, _, cookie_value = part.strip().partition("=")
            if cookie_name == name:
                return cookie_value
    return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (a visitor who is not signed in has one too)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def read_form(request: Request, max_files: int = 0) -> FormData:
    """The POSTed form, after the size limit and the CSRF check; file fields only where the
    form has some (`max_files`)."""
    try:
        await read_body(request, MAX_FORM_BYTES)
    except BodyTooLarge:
        raise FormRefused(413, f"The form is larger than {MAX_FORM_BYTES // (1024 * 1024)} MB.") from None
    form = await request.form(max_files=max_files, max_fields=200)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise FormRefused(
            403,
            "This form expired or did not come from this site (the security token did not match). "
            "Go back, reload the page and send it again.",
        )
    return form


def form_id(form: FormData, name: str) -> int | None:
    """A row id sent in a hidden field, or None when it is missing or cannot be one."""
    value = form.get(name)
    if not isinstance(value, str) or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ROW_ID else None


def sign_in(request: Request, user_id: int, password_hash: str | None) -> None:
    """Start a signed-in session; a fresh CSRF token, so one seen before sign-in is worthless."""
    request.session.clear()
    request.session.update(
        {"uid": user_id, "pw": password_fingerprint(password_hash), "csrf": secrets.token_urlsafe(24)}
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def password_fingerprint(password_hash: str | None) -> str:
    """Changes whenever the password does, which ends every session made with the old one."""
    return hmac.new(b"talentfed-session-password", (password_hash or "").encode(), "sha256").hexdigest()[:16]
