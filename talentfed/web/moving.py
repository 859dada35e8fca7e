"""Moving accounts in the browser (`/settings/moving`): the aliases a member names before an
old account moves here, and the member's own move to another account.

The rules are `domain/moves.py`; accounts are looked up (WebFinger, a fresh fetch) before the
transaction opens, and a refusal comes back as the page with the message next to its field.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import moves
from talentfed.web.accounts import members_only
from talentfed.web.sessions import read_form
from talentfed.web.templating import Viewer, render

MAX_FIELD = 2_100  # an actor URL (2,048 characters at most) or a handle, with room for spaces


async def _page(
    request: Request, me: Viewer, *, errors: dict[str, str] | None = None, values: dict | None = None
) -> Response:
    async with request.app.state.sessions() as session:
        member = await session.merge(me.actor)
        context: dict[str, Any] = {
            "aliases": list(member.also_known_as or []),
            "moved_to": member.moved_to_uri,
            "max_aliases": moves.MAX_ALIASES,
            "errors": errors or {},
            "values": values or {},
        }
    return await render(request, "settings_moving.html", context, status_code=400 if errors else 200)


@members_only
async def moving_settings(request: Request, me: Viewer) -> Response:
    if request.method == "GET":
        return await _page(request, me)
    form = await read_form(request)
    action = str(form.get("action", ""))
    values = {name: str(form.get(name, ""))[:MAX_FIELD] for name in ("alias", "target", "uri")}
    config, actors = request.app.state.config, request.app.state.federation.actors
    try:
        if action == "add_alias":
            account = await moves.find_account(actors, "alias", values["alias"])
            async with request.app.state.sessions.begin() as session:
                member = await session.merge(me.actor)
                await moves.add_alias(session, config, member, await session.merge(account))
            flash = f"{account.uri} may now move to this account."
        elif action == "remove_alias":
            async with request.app.state.sessions.begin() as session:
                await moves.remove_alias(session, config, await session.merge(me.actor), values["uri"])
            flash = "Alias removed."
        elif action == "move":
            target = await moves.find_account(actors, "target", values["target"])
            async with request.app.state.sessions.begin() as session:
                member = await session.merge(me.actor)
                await moves.move_out(session, config, member, await session.merge(target))
            flash = f"Moved to {target.uri}; your followers are being told."
        else:
            return await _page(request, me, errors={"action": "expected add_alias, remove_alias or move"})
    except moves.MoveError as exc:
        return await _page(request, me, errors={exc.field: exc.message}, values=values)
    request.session["flash"] = flash
    return RedirectResponse("/settings/moving", status_code=303)


routes = [Route("/settings/moving", moving_settings, methods=["GET", "POST"])]
