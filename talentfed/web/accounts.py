"""Signing in and out, joining with an invitation, changing one's password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain.accounts import AccountError, authenticate, set_password
from talentfed.domain.invitations import join, open_invitation
from talentfed.domain.members import MemberError, NewMember, find_member
from talentfed.text import normalize_skills
from talentfed.web.rate_limits import rate_limits
from talentfed.web.sessions import read_form, sign_in, sign_out
from talentfed.web.templating import Viewer, render, viewer


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never an open redirect to another one."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


Handler = Callable[[Request, Viewer], Awaitable[Response]]


def members_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in members: anyone else is sent to the sign-in page first."""

    async def wrapped(request: Request) -> Response:
        me = await viewer(request)
        if me is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
        return await handler(request, me)

    return wrapped


def admins_only(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def wrapped(request: Request, me: Viewer) -> Response:
        if not me.is_admin:
            return await render(
                request,
                "message.html",
                {"title": "Not allowed", "text": "Only an administrator of this server may open this page."},
                status_code=403,
            )
        return await handler(request, me)

    return members_only(wrapped)


async def sign_in_page(request: Request) -> Response:
    if request.method == "GET":
        if await viewer(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return await render(request, "sign_in.html", {"next": safe_next(request.query_params.get("next"))})
    form = await read_form(request)
    username = str(form.get("username", "")).strip().lower().lstrip("@")[:64]
    password = str(form.get("password", ""))[:1024]
    target = safe_next(str(form.get("next", "")))
    failures, own_failures = rate_limits(request).of_sign_in(request, username)
    context = {"next": target, "values": {"username": username}}
    wait = await rate_limits(request).wait(failures)
    if wait > 0:
        message = f"Too many failed sign-ins. {_try_again(wait)}"
        return await render(
            request, "sign_in.html", {**context, "error": message}, status_code=429, headers=_retry(wait)
        )
    async with request.app.state.sessions.begin() as session:
        found = await authenticate(session, username, password)
    if found is None:
        await rate_limits(request).count(failures)
        error = "That name and password do not match an account on this server."
        return await render(request, "sign_in.html", {**context, "error": error}, status_code=401)
    await rate_limits(request).forget(own_failures)
    sign_in(request, found[1].id, found[1].password_hash)
    return RedirectResponse(target, status_code=303)


def _try_again(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return f"Try again in about {minutes} minute{'s' if minutes > 1 else ''}."


def _retry(wait: int) -> dict[str, str]:
    return {"Retry-After": str(wait)}


async def sign_out_endpoint(request: Request) -> Response:
    await read_form(request)
    sign_out(request)
    return RedirectResponse("/", status_code=303)


JOIN_FIELDS = ("username", "display_name", "headline", "skills", "password", "password_again")


async def join_page(request: Request) -> Response:
    """/join?invitation=TOKEN (or open registration): choose a name and a password."""
    config = request.app.state.config
    token = request.query_params.get("invitation", "")
    async with request.app.state.sessions() as session:
        invitation = await open_invitation(session, token) if token else None
    if invitation is None and not (config.web.open_registrations and not token):
        text = (
            "This invitation link has expired or was already used. Ask the administrator for a new one."
            if token
            else "This server is open by invitation only. Ask its administrator for an invitation."
        )
        return await render(request, "message.html", {"title": "Join", "text": text}, status_code=403)
    if request.method == "GET":
        return await render(request, "join.html", {"token": token, "invitation": invitation})
    form = await read_form(request)
    joining = rate_limits(request).of_joining(request)
    if wait := await rate_limits(request).wait(joining):
        text = f"Too many accounts were created from your address. {_try_again(wait)}"
        page = {"title": "Join", "text": text}
        return await render(request, "message.html", page, status_code=429, headers=_retry(wait))
    values = {name: str(form.get(name, ""))[:2000] for name in JOIN_FIELDS}
    errors: dict[str, str] = {}
    if values["password"] != values["password_again"]:
        errors["password_again"] = "The two passwords differ."
    new = NewMember(
        username=values["username"].strip().lower(),
        display_name=values["display_name"],
        headline=values["headline"],
        skills=tuple(normalize_skills(values["skills"].split(","))),
    )
    if not errors:
        try:
            async with request.app.state.sessions.begin() as session:
                actor = await join(session, config, new, values["password"], invitation_token=token or None)
                _, user = await find_member(session, actor.username)
        except AccountError as exc:
            errors[exc.field] = exc.message
        except MemberError as exc:
            field, _, text = str(exc).partition(": ")
            errors[field.replace(" ", "_") if text else "username"] = text or str(exc)
    if errors:
        for secret in ("password", "password_again"):  # a password is never sent back in a page
            values.pop(secret)
        context = {"token": token, "invitation": invitation, "errors": errors, "values": values}
        return await render(request, "join.html", context, status_code=400)
    await rate_limits(request).count(joining)
    sign_in(request, user.id, user.password_hash)
    request.session["flash"] = (
        f"Welcome, {actor.display_name}. This is your profile; add your skills and links."
    )
    return RedirectResponse(f"/users/{actor.username}", status_code=303)


@members_only
async def password_page(request: Request, me: Viewer) -> Response:
    if request.method == "GET":
        return await render(request, "password.html")
    form = await read_form(request)
    current, new, again = (str(form.get(k, ""))[:1024] for k in ("current", "password", "password_again"))
    errors: dict[str, str] = {}
    async with request.app.state.sessions.begin() as session:
        found = await authenticate(session, me.user.username, current)
        if found is None:
            errors["current"] = "This is not your current password."
        elif new != again:
            errors["password_again"] = "The two passwords differ."
        else:
            try:
                await set_password(session, found[1], new)
            except AccountError as exc:
                errors[exc.field] = exc.message
            else:
                sign_in(request, found[1].id, found[1].password_hash)
    if errors:
        return await render(request, "password.html", {"errors": errors}, status_code=400)
    request.session["flash"] = "Password changed. You were signed out everywhere else."
    return RedirectResponse(f"/users/{me.actor.username}", status_code=303)


routes = [
    Route("/sign-in", sign_in_page, methods=["GET", "POST"]),
    Route("/sign-out", sign_out_endpoint, methods=["POST"]),
    Route("/join", join_page, methods=["GET", "POST"]),
    Route("/settings/password", password_page, methods=["GET", "POST"]),
]
