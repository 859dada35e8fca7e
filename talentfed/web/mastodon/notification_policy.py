"""The notification policy (Mastodon 4.3, `/api/v2/notifications/policy`): what the member does
with notifications from people they do not follow, and so on. Kept and applied by
domain/notification_policy.py and domain/notifications.py; we keep no notification requests,
so the summary counts none and `/api/v1/notifications/requests` is an empty list
(web/mastodon/placeholders.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import notification_policy
from talentfed.domain.errors import FieldError
from talentfed.domain.notification_policy import RULES, Policy
from talentfed.web.mastodon.auth import Holder, member_in, scoped
from talentfed.web.mastodon.errors import validation_failed
from talentfed.web.mastodon.params import read_params, text_param

PATH = "/api/v2/notifications/policy"


def policy_json(policy: Policy) -> dict[str, Any]:
    """Mastodon's NotificationPolicy (v2)."""
    body: dict[str, Any] = {rule: getattr(policy, rule) for rule in RULES}
    body["summary"] = {"pending_requests_count": 0, "pending_notifications_count": 0}
    return body


@scoped("read:notifications")
async def show(request: Request, holder: Holder) -> Response:
    async with request.app.state.sessions() as session:
        policy = await notification_policy.policy_of(session, await member_in(session, holder))
    return JSONResponse(policy_json(policy))


@scoped("write:notifications")
async def update(request: Request, holder: Holder) -> Response:
    """`for_…` fields (form or JSON), each accept, filter or drop; those not sent are kept."""
    params = await read_params(request)
    changes = {rule: text_param(params, rule) for rule in RULES if rule in params}
    try:
        async with request.app.state.sessions() as session, session.begin():
            member = await member_in(session, holder)
            policy = await notification_policy.update_policy(session, member, changes)
    except FieldError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(policy_json(policy))


routes = [Route(PATH, show), Route(PATH, update, methods=["PATCH"])]
