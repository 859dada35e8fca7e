"""`POST /api/v1/reports`: a member reports an account (and some of its posts) to the
moderators, by domain/reports.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import reports
from talentfed.domain.profiles import profile_counts
from talentfed.storage.models import Actor, Report
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.entities import account, iso
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.params import Params, flag_param, read_params, row_id, text_param


def _ids(params: Params, name: str) -> list[str]:
    given = params.get(name) or []
    return [given] if isinstance(given, str) else list(given)


def _post_ids(params: Params) -> list[int]:
    ids = [row_id(raw) for raw in _ids(params, "status_ids")]
    if any(number is None for number in ids):
        raise validation_failed("status_ids: each must be the id of a status")
    return [number for number in ids if number is not None]


@scoped("write:reports")
async def create(request: Request, holder: Holder) -> Response:
    params = await read_params(request)
    sent_id = text_param(params, "account_id")
    if not sent_id:
        raise validation_failed("account_id: the account to report is required")
    target_id = row_id(sent_id)
    config = request.app.state.config
    async with request.app.state.sessions.begin() as session:
        member = await member_in(session, holder)
        target = await session.get(Actor, target_id) if target_id is not None else None
        if target is None:
            raise MastodonError(404, NOT_FOUND)
        new = reports.NewReport(
            target=target,
            post_ids=_post_ids(params),
            comment=text_param(params, "comment") or "",
            category=text_param(params, "category") or ("violation" if _ids(params, "rule_ids") else "other"),
            rule_ids=_ids(params, "rule_ids"),
            forward=bool(flag_param(params, "forward")),
        )
        try:
            report = await reports.file_report(session, config, member, new)
        except reports.ReportError as exc:
            raise validation_failed(str(exc)) from None
        target_account = account(target, await profile_counts(session, target), config)
    return JSONResponse(report_entity(report, target_account))


def report_entity(report: Report, target_account: dict[str, Any]) -> dict[str, Any]:
    """Mastodon's Report, as the member who filed it sees it."""
    return {
        "id": str(report.id),
        "action_taken": report.resolved_at is not None,
        "action_taken_at": iso(report.resolved_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": [str(post_id) for post_id in report.post_ids] or None,
        "rule_ids": list(report.rule_ids) or None,
        "target_account": target_account,
    }


routes = [Route("/api/v1/reports", create, methods=["POST"])]
