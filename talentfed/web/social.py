"""Follows in the browser: follow and unfollow by handle, approve requests, the follow page
other servers send our members to, and the notifications page."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import follows
from talentfed.domain.notifications import notifications_for
from talentfed.federation.remote_actors import ActorUnavailable
from talentfed.storage.models import Actor, User, utcnow
from talentfed.web.accounts import members_only, safe_next
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render, viewer


async def _follows_context(request: Request, me: Viewer) -> dict:
    async with request.app.state.sessions() as session:
        return {
            "following": await follows.following(session, me.actor),
            "followers": await follows.followers(session, me.actor, state="accepted"),
            "requests": await follows.followers(session, me.actor, state="pending"),
        }


async def _follows_page(request: Request, me: Viewer, *, errors=None, values=None) -> Response:
    context = await _follows_context(request, me) | {"errors": errors or {}, "values": values or {}}
    return await render(request, "follows.html", context, status_code=400 if errors else 200)


@members_only
async def follows_page(request: Request, me: Viewer) -> Response:
    """GET: whom I follow, who follows me, requests to approve. POST: follow or unfollow a handle."""
    if request.method == "GET":
        return await _follows_page(request, me)
    form = await read_form(request)
    handle = str(form.get("handle", "")).strip()[:300]
    action = form.get("action", "follow")
    try:
        target = await request.app.state.federation.actors.resolve(handle)
        async with request.app.state.sessions.begin() as session:
            member, other = await session.merge(me.actor), await session.merge(target)
            if action == "unfollow":
                await follows.unfollow(session, request.app.state.config, member, other)
                flash = f"You no longer follow @{other.handle}."
            else:
                edge = await follows.follow(session, request.app.state.config, member, other)
                flash = (
                    f"You follow @{other.handle}."
                    if edge.state == "accepted"
                    else f"Follow request sent to @{other.handle}; it shows as pending until they accept."
                )
    except (ActorUnavailable, follows.FollowError) as exc:
        message = str(exc) or "that account could not be found"
        return await _follows_page(request, me, errors={"handle": message}, values={"handle": handle})
    request.session["flash"] = flash
    return RedirectResponse(safe_next(str(form.get("back", "")), default="/follows"), status_code=303)


@members_only
async def follow_request(request: Request, me: Viewer) -> Response:
    """Approve or refuse one pending follow request."""
    form = await read_form(request)
    follower_id = form_id(form, "follower")
    async with request.app.state.sessions.begin() as session:
        follower = await session.get(Actor, follower_id) if follower_id else None
        if follower is None:
            return await _follows_page(request, me, errors={"requests": "That request no longer exists."})
        try:
            await follows.answer_request(
                session,
                request.app.state.config,
                await session.merge(me.actor),
                follower,
                accept=form.get("answer") == "accept",
            )
        except follows.FollowError as exc:
            return await _follows_page(request, me, errors={"requests": str(exc)})
    request.session["flash"] = "Done."
    return RedirectResponse("/follows", status_code=303)


async def follow_page(request: Request, handle_or_url: str) -> Response:
    """Where a member lands from another server's "follow" button (our `subscribe` template)."""
    me = await viewer(request)
    if me is None:
        target = f"/authorize_interaction?uri={request.query_params.get('uri', '')}"
        return await render(
            request,
            "message.html",
            {
                "title": f"Follow {handle_or_url}",
                "text": "Sign in with your account on this server to follow them.",
                "links": [(f"/sign-in?next={quote(target, safe='')}", "Sign in")],
            },
        )
    try:
        target_actor = await request.app.state.federation.actors.resolve(handle_or_url)
    except ActorUnavailable as exc:
        return await render(
            request,
            "message.html",
            {"title": "Follow", "text": f"That account cannot be found: {exc}"},
            status_code=404,
        )
    return await render(request, "follow_confirm.html", {"target": target_actor})


NOTIFICATIONS_PER_PAGE = 50


@members_only
async def notifications_page(request: Request, me: Viewer) -> Response:
    """Newest first; `?before=` (a notification's time) pages back. Opening the first page marks
    everything as seen."""
    before = _moment(request.query_params.get("before", ""))
    if before is False:
        text = "The page address is not valid (before= must be a date and time)."
        return await render(
            request, "message.html", {"title": "Notifications", "text": text}, status_code=400
        )
    config = request.app.state.config
    async with request.app.state.sessions.begin() as session:
        user = await session.get(User, me.user.id)
        seen_at = user.notifications_seen_at
        items = await notifications_for(
            session, me.actor, config=config, limit=NOTIFICATIONS_PER_PAGE, before=before or None
        )
        if before is None:
            user.notifications_seen_at = utcnow()
    older = (
        f"/notifications?before={quote(items[-1].at.isoformat(), safe='')}"
        if len(items) == NOTIFICATIONS_PER_PAGE
        else None
    )
    context = {"items": items, "seen_at": seen_at, "unread": 0, "older": older}
    return await render(request, "notifications.html", context)


def _moment(text: str) -> datetime | Literal[False] | None:
    """None when absent, the moment when valid, False when malformed."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return False
    return moment if moment.tzinfo is not None else False


routes = [
    Route("/follows", follows_page, methods=["GET", "POST"]),
    Route("/follows/requests", follow_request, methods=["POST"]),
    Route("/notifications", notifications_page),
]
