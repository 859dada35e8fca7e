"""The member's settings page of the apps they authorized (Mastodon client API), and revoking one.

What an app holds and how its access ends is decided in `domain/oauth.py`; this page lists it and
turns the member's click into `revoke_application`, which ends every token of that app at once.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import oauth
from talentfed.web.accounts import members_only
from talentfed.web.pages import message
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render

PAGE = "/settings/apps"


@members_only
async def apps_page(request: Request, me: Viewer) -> Response:
    async with request.app.state.sessions() as session:
        authorized = await oauth.authorized_apps(session, me.user)
    return await render(request, "settings_apps.html", {"authorized": authorized})


@members_only
async def revoke_app(request: Request, me: Viewer) -> Response:
    """POST /settings/apps/revoke: the app's tokens for this member end now."""
    form = await read_form(request)
    application_id = form_id(form, "application")
    async with request.app.state.sessions.begin() as session:
        revoked = application_id is not None and await oauth.revoke_application(
            session, me.user, application_id
        )
    if not revoked:
        text = "That app has no access to your account (any more)."
        return await message(request, "No such app", text, status_code=404)
    request.session["flash"] = "The app no longer has access to your account."
    return RedirectResponse(PAGE, status_code=303)


routes = [
    Route(PAGE, apps_page),
    Route(f"{PAGE}/revoke", revoke_app, methods=["POST"]),
]
