"""The moderators' pages: the reports queue, one report with its notes and actions, and the
moderation log. The rules are domain/reports.py's and domain/moderation_log.py's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from talentfed.domain import moderation, moderation_log, reports
from talentfed.storage.models import MAX_ROW_ID
from talentfed.web.accounts import admins_only
from talentfed.web.sessions import form_id, read_form
from talentfed.web.templating import Viewer, render

ACTIONS = ("resolve", "reopen", "note", "remove_post", "block_domain")


@admins_only
async def queue(request: Request, me: Viewer) -> Response:
    resolved = request.query_params.get("resolved") == "1"
    async with request.app.state.sessions() as session:
        listed = await reports.listed_reports(session, resolved=resolved)
    return await render(request, "admin_reports.html", {"reports": listed, "resolved": resolved})


def _report_id(request: Request) -> int:
    """The report the path names; 0 (no report has it) for one beyond every row's id."""
    number = int(request.path_params["report_id"])
    return number if number <= MAX_ROW_ID else 0


async def _report_page(request: Request, report_id: int, *, errors: dict[str, str] | None = None) -> Response:
    async with request.app.state.sessions() as session:
        try:
            view = await reports.report_view(session, report_id)
        except reports.ReportError:
            missing = {"title": "Not found", "text": "There is no such report."}
            return await render(request, "message.html", missing, status_code=404)
    context: dict[str, Any] = {"view": view, "errors": errors or {}}
    return await render(request, "admin_report.html", context, status_code=400 if errors else 200)


@admins_only
async def report_page(request: Request, me: Viewer) -> Response:
    return await _report_page(request, _report_id(request))


@admins_only
async def act(request: Request, me: Viewer) -> Response:
    """One moderator action on a report, named by the form's `action`."""
    report_id = _report_id(request)
    form = await read_form(request)
    action = str(form.get("action", ""))
    config = request.app.state.config
    try:
        async with request.app.state.sessions.begin() as session:
            if action in ("resolve", "reopen"):
                await reports.resolve(session, report_id, me.user, reopen=action == "reopen")
                flash = "The report is resolved." if action == "resolve" else "The report is open again."
            elif action == "note":
                await reports.add_note(session, report_id, me.user, str(form.get("note", ""))[:10_000])
                flash = "Note added."
            elif action == "remove_post":
                post_id = form_id(form, "post")
                if post_id is None:
                    raise reports.ReportError("post", "that post is not part of this report")
                await reports.remove_post(session, config, report_id, post_id, me.user)
                flash = "The post is removed."
            elif action == "block_domain":
                reason = str(form.get("reason", ""))[:500]
                severity = str(form.get("severity", "suspend"))[:16]
                domain = await reports.block_domain_of_target(
                    session, config, report_id, me.user, reason, severity
                )
                flash = f"{domain} is {'silenced' if severity == 'silence' else 'suspended'}."
            else:
                raise reports.ReportError("action", f"one of {', '.join(ACTIONS)}")
    except (reports.ReportError, moderation.ModerationError) as exc:
        if exc.field == "report":
            return await _report_page(request, report_id)  # answers 404
        return await _report_page(request, report_id, errors={exc.field: exc.message})
    if action == "block_domain":
        request.app.state.federation.policies.forget()  # committed: this process applies it at once
    request.session["flash"] = flash
    return RedirectResponse(f"/admin/reports/{report_id}", status_code=303)


@admins_only
async def log_page(request: Request, me: Viewer) -> Response:
    before = request.query_params.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) <= 18 else None
    async with request.app.state.sessions() as session:
        entries = await moderation_log.entries(session, before_id=before_id)
    return await render(request, "admin_log.html", {"entries": entries, "page": moderation_log.PAGE})


routes = [
    Route("/admin/reports", queue),
    Route("/admin/reports/{report_id:int}", report_page),
    Route("/admin/reports/{report_id:int}", act, methods=["POST"]),
    Route("/admin/log", log_page),
]
