"""The report form: a member tells the moderators about an account, or one of its posts
(domain/reports.py files it; the client API's `POST /api/v1/reports` is the same)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import node_about, reports
from talentfed.domain.visibility import Viewer as Reader
from talentfed.domain.visibility import may_read
from talentfed.storage.models import MAX_ROW_ID, Actor, Object
from talentfed.web.accounts import members_only
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render


def _query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) <= 10 and 0 < int(raw) <= MAX_ROW_ID else None


async def _form_page(
    request: Request,
    me: Viewer,
    target_id: int | None,
    post_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    async with request.app.state.sessions() as session:
        target = await session.get(Actor, target_id) if target_id else None
        post = await session.get(Object, post_id) if post_id else None
        if post is not None and (
            post.deleted_at is not None
            or (target is not None and post.author_id != target.id)
            or not await may_read(session, Reader(actor_id=me.actor.id), post)
        ):
            post = None
        if target is None and post is not None:
            target = await session.get(Actor, post.author_id)
    if target is None or target.id == me.actor.id:
        missing = {"title": "Not found", "text": "There is no such account to report."}
        return await render(request, "message.html", missing, status_code=404)
    context = {
        "target": target,
        "post": post,
        "categories": reports.CATEGORIES,
        "rules": node_about.rules_of(request.app.state.config),
        "errors": errors or {},
        "values": values or {},
    }
    return await render(request, "report.html", context, status_code=400 if errors else 200)


@members_only
async def report_form(request: Request, me: Viewer) -> Response:
    return await _form_page(request, me, _query_id(request, "account"), _query_id(request, "post"))


def _values(form: FormData) -> dict[str, Any]:
    return {
        "comment": str(form.get("comment", ""))[:10_000],
        "category": str(form.get("category", "other")),
        "rule_ids": [str(rule) for rule in form.getlist("rule_ids")][:50],
        "forward": form.get("forward") == "on",
    }


@members_only
async def file_report(request: Request, me: Viewer) -> Response:
    form = await read_form(request)
    target_id, post_id = form_id(form, "account"), form_id(form, "post")
    values = _values(form)
    try:
        async with request.app.state.sessions.begin() as session:
            target = await session.get(Actor, target_id) if target_id else None
            if target is None:
                raise reports.ReportError("account", "there is no such account")
            new = reports.NewReport(
                target=target,
                post_ids=[post_id] if post_id else [],
                comment=values["comment"],
                category=values["category"],
                rule_ids=values["rule_ids"],
                forward=values["forward"],
            )
            await reports.file_report(session, request.app.state.config, me.actor, new)
            back = target.url or target.uri
    except reports.ReportError as exc:
        errors = {exc.field: exc.message}
        return await _form_page(request, me, target_id, post_id, errors=errors, values=values)
    request.session["flash"] = "Thank you: the moderators will look at your report."
    return RedirectResponse(back if target.local else "/", status_code=303)


routes = [
    Route("/report", report_form),
    Route("/report", file_report, methods=["POST"]),
]
