"""Plain HTML pages for browsers (a placeholder until the web-interface templates exist)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from talentfed.storage.models import Actor


def page(title: str, body_html: str, *, alternate: str | None = None, status_code: int = 200) -> HTMLResponse:
    link = (
        f'<link rel="alternate" type="application/activity+json" href="{escape(alternate)}">'
        if alternate
        else ""
    )
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>{link}</head>"
        f"<body><main>{body_html}</main></body></html>\n"
    )
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "Accept"})


def actor_page(actor: Actor, *, follow_value: str = "", follow_error: str = "") -> HTMLResponse:
    skills = ", ".join(escape(skill) for skill in actor.skills or [])
    parts = [
        f"<h1>{escape(actor.display_name or actor.username)}</h1>",
        f"<p>@{escape(actor.handle)}</p>",
    ]
    if actor.headline:
        parts.append(f"<p>{escape(actor.headline)}</p>")
    if actor.summary:
        parts.append(f"<div>{actor.summary}</div>")  # already sanitised when stored
    if skills:
        parts.append(f"<p>Skills: {skills}</p>")
    parts.append(remote_follow_form(actor, value=follow_value, error=follow_error))
    status = 400 if follow_error else 200
    return page(actor.display_name or actor.username, "".join(parts), alternate=actor.uri, status_code=status)


async def authorize_interaction(request: Request) -> HTMLResponse:
    """Where other servers send our members to follow someone (our WebFinger `subscribe` template).

    Signing in to follow from the browser comes with member accounts; until then the page names
    the command an admin runs.
    """
    uri = request.query_params.get("uri", "").strip()
    if not uri:
        return page("Follow", "<h1>Follow</h1><p>No account was given (uri=…).</p>", status_code=400)
    shown = escape(uri.removeprefix("acct:"))
    body = (
        f"<h1>Follow {shown}</h1>"
        "<p>Following from the browser needs a member account on this server, which is not "
        "available yet. An administrator can follow on your behalf:</p>"
        f"<pre>talentfed follow YOUR_USERNAME {shown}</pre>"
    )
    return page(f"Follow {uri}", body)


def remote_follow_form(actor: Actor, *, value: str = "", error: str = "") -> str:
    """The box where a visitor from another server types their handle to follow `actor`."""
    message = f'<p id="remote-follow-error" role="alert">{escape(error)}</p>' if error else ""
    described = ' aria-describedby="remote-follow-error"' if error else ""
    return (
        f'<form method="post" action="/users/{escape(actor.username)}/remote_follow">'
        '<label for="remote-follow-handle">Follow from your own server (Mastodon and others)</label> '
        f'<input id="remote-follow-handle" name="handle" placeholder="@you@your.server" '
        f'value="{escape(value)}" required{described}> '
        f'<button type="submit">Follow</button>{message}</form>'
    )
