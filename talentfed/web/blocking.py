"""Blocks and mutes in the browser: `/settings/blocks` lists the member's blocks and mutes with
a button to undo each, and takes the forms of the profile pages' Block and Mute buttons and of
its own "by handle" box. The rules are domain/member_blocks.py and domain/mutes.py; a refusal
comes back as the page with the message next to its field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain import member_blocks, mutes
from talentfed.domain.errors import FieldError
from talentfed.federation.remote_actors import ActorUnavailable
from talentfed.storage.models import AccountBlock, AccountMute, Actor
from talentfed.web.accounts import members_only, safe_next
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render

ACTIONS = ("block", "unblock", "mute", "unmute")
MAX_HANDLE = 2_100  # an actor URL (2,048 characters at most) or a handle, with room for spaces
MAX_DURATION_DIGITS = 10


async def _page(
    request: Request, me: Viewer, *, errors: dict[str, str] | None = None, values: dict | None = None
) -> Response:
    async with request.app.state.sessions() as session:
        blocked = await session.execute(
            member_blocks.blocked_rows(me.actor.id).order_by(AccountBlock.id.desc())
        )
        muted = await session.execute(mutes.muted_rows(me.actor.id).order_by(AccountMute.id.desc()))
        context: dict[str, Any] = {
            "blocks": [actor for actor, _ in blocked],
            "mutes": list(muted),
            "errors": errors or {},
            "values": values or {},
        }
    return await render(request, "settings_blocks.html", context, status_code=400 if errors else 200)


@members_only
async def blocks_settings(request: Request, me: Viewer) -> Response:
    if request.method == "GET":
        return await _page(request, me)
    form = await read_form(request)
    action = str(form.get("action", ""))
    values = {"handle": str(form.get("handle", "")).strip()[:MAX_HANDLE]}
    if action not in ACTIONS:
        return await _page(request, me, errors={"action": f"expected one of {', '.join(ACTIONS)}"})
    try:
        target = await _target(request, form, values["handle"])
        async with request.app.state.sessions.begin() as session:
            member, other = await session.merge(me.actor), await session.merge(target)
            flash = await _apply(session, request.app.state.config, action, form, member, other)
    except FieldError as exc:
        return await _page(request, me, errors={exc.field: exc.message}, values=values)
    request.session["flash"] = flash
    return RedirectResponse(safe_next(str(form.get("back", "")), default="/settings/blocks"), status_code=303)


async def _target(request: Request, form: FormData, handle: str) -> Actor:
    """The account a form names: by row id (the buttons) or by handle (the box)."""
    account_id = form_id(form, "account")
    if account_id is not None:
        async with request.app.state.sessions() as session:
            found = await session.get(Actor, account_id)
        if found is None:
            raise FieldError("handle", "that account no longer exists here")
        return found
    if not handle:
        raise FieldError("handle", "name an account: @user@domain or its address")
    try:
        return await request.app.state.federation.actors.resolve(handle)
    except ActorUnavailable as exc:
        raise FieldError("handle", f"that account cannot be found: {exc}") from None


async def _apply(
    session: AsyncSession, config: Config, action: str, form: FormData, member: Actor, other: Actor
) -> str:
    """Do `action`; the line the next page shows."""
    if action == "block":
        await member_blocks.block(session, config, member, other)
        return f"You block @{other.handle}."
    if action == "unblock":
        await member_blocks.unblock(session, config, member, other)
        return f"You no longer block @{other.handle}."
    if action == "mute":
        notifications = form.get("notifications", "on") == "on"
        await mutes.mute(session, member, other, notifications=notifications, duration=_duration(form))
        return f"You mute @{other.handle}."
    await mutes.unmute(session, member, other)
    return f"You no longer mute @{other.handle}."


def _duration(form: FormData) -> int:
    raw = str(form.get("duration", "") or "0").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_DURATION_DIGITS:
        raise mutes.MuteError("duration", "a whole number of seconds (0: for ever)")
    return int(raw)


routes = [Route("/settings/blocks", blocks_settings, methods=["GET", "POST"])]
