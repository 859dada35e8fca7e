"""Jinja2 pages: one environment, one `render`, and who is looking (the signed-in member).

Templates live in `web/templates/`, autoescaped. Every page gets the node, the viewer and a
CSRF token; pages that show an ActivityPub object pass `alternate` (its id) and `creator`
(its author's handle) so the layout can link the JSON and name the author for Mastodon's
link previews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse

from talentfed.domain import visibility
from talentfed.domain.accounts import get_user
from talentfed.domain.notifications import unread_count
from talentfed.federation.post_documents import content_warning
from talentfed.storage.models import Actor, User
from talentfed.text import html_to_excerpt
from talentfed.web.sessions import CSRF_FIELD, csrf_token, password_fingerprint

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Pages must not be framed (clickjacking); everything they load comes from this node.
PAGE_HEADERS = {
    "Vary": "Accept, Cookie",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


def _date(value: datetime | None, style: str = "%-d %b %Y") -> str:
    return value.strftime(style) if value else ""


environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html", "svg", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)
environment.filters["date"] = _date
environment.filters["iso"] = lambda value: value.isoformat() if value else ""
environment.filters["excerpt"] = html_to_excerpt
environment.filters["content_warning"] = content_warning


class _LazyToken:
    """The CSRF token, made only when a page prints it: a page without a form sets no cookie."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return str(self)  # URL-safe base64: nothing to escape


@dataclass(frozen=True)
class Viewer:
    """The signed-in member looking at a page."""

    actor: Actor
    user: User

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"


async def viewer(request: Request) -> Viewer | None:
    """The signed-in member, or None; looked up once per request."""
    if "viewer" in request.scope.get("state", {}):
        return request.state.viewer
    found = None
    user_id = request.session.get("uid")
    if isinstance(user_id, int):
        async with request.app.state.sessions() as session:
            row = await get_user(session, user_id)
        if (
            row
            and not row[1].disabled
            and request.session.get("pw") == password_fingerprint(row[1].password_hash)
        ):
            found = Viewer(*row)
    request.state.viewer = found
    return found


async def reader(request: Request) -> visibility.Viewer:
    """The signed-in member as a reader of posts (domain/visibility.py), else anyone."""
    me = await viewer(request)
    return visibility.Viewer(actor_id=me.actor.id) if me is not None else visibility.ANONYMOUS


async def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    config = request.app.state.config
    me = await viewer(request)
    unread = 0
    if me is not None:
        async with request.app.state.sessions() as session:
            unread = await unread_count(session, me.actor, me.user.notifications_seen_at, config=config)
    values = {
        "request": request,
        "node": config.node,
        "viewer": me,
        "csrf_field": CSRF_FIELD,
        "csrf_token": _LazyToken(request),
        "alternate": None,
        "creator": None,
        "og": None,
        "flash": request.session.pop("flash", None),
        "unread": unread,
        "errors": {},
        "values": {},
        **(context or {}),
    }
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
