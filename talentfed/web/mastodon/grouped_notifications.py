"""Grouped notifications (Mastodon 4.3's API v2): `{accounts, statuses, notification_groups}`
over the groups of domain/notifications.py (`groups_for`, `group`), where the rule of what
groups together lives. Paging is by notification id, with a `Link` header, as in v1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.domain import notifications as model
from talentfed.domain.notifications import GroupKey, NotificationKey
from talentfed.web.mastodon.auth import Holder, scoped
from talentfed.web.mastodon.entities import notification_group, partial_account
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError
from talentfed.web.mastodon.notifications import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    accounts_by_id,
    kinds_of,
    pages_forward,
    selection_of,
    status_post_id,
    statuses_by_post,
    unread,
)
from talentfed.web.mastodon.paging import limit_of, links_between
from talentfed.web.mastodon.params import query_list

EXPAND_ACCOUNTS = ("full", "partial_avatars")
EMPTY: dict[str, list[Any]] = {"accounts": [], "statuses": [], "notification_groups": []}


def _grouped(request: Request) -> frozenset[str]:
    """The kinds that may group: those `grouped_types[]` names (all that can, without it)."""
    if not query_list(request, "grouped_types"):
        return model.GROUPED_KINDS
    return kinds_of(request, "grouped_types") & model.GROUPED_KINDS


def _expand_accounts(request: Request) -> str:
    wanted = request.query_params.get("expand_accounts") or "full"
    if wanted not in EXPAND_ACCOUNTS:
        raise MastodonError(
            400, "Invalid value for 'expand_accounts', allowed values are 'full' and 'partial_avatars'"
        )
    return wanted


async def _results(
    request: Request, session: AsyncSession, holder: Holder, groups: Sequence[model.Group], *, paged: bool
) -> dict[str, Any]:
    """GroupedNotificationsResults. With `expand_accounts=partial_avatars`, only the newest
    account of each group is in `accounts`; the others are in `partial_accounts`."""
    config = request.app.state.config
    statuses = await statuses_by_post(
        session, config, holder.viewer, (status_post_id(g.latest) for g in groups)
    )
    # A group whose status the member can no longer read is left out, as in v1.
    shown = [g for g in groups if (post_id := status_post_id(g.latest)) is None or post_id in statuses]
    accounts = await accounts_by_id(session, config, (actor for g in shown for actor in g.sample_ids))
    shown = [g for g in shown if g.sample_ids and g.sample_ids[0] in accounts]
    full = list(dict.fromkeys(actor for g in shown for actor in g.sample_ids if actor in accounts))
    results: dict[str, Any] = {}
    if _expand_accounts(request) == "partial_avatars":
        newest = list(dict.fromkeys(g.sample_ids[0] for g in shown))
        results["accounts"] = [accounts[actor] for actor in newest]
        results["partial_accounts"] = [partial_account(accounts[a]) for a in full if a not in newest]
    else:
        results["accounts"] = [accounts[actor] for actor in full]
    status_ids = dict.fromkeys(post_id for g in shown if (post_id := status_post_id(g.latest)) is not None)
    results["statuses"] = [statuses[post_id] for post_id in status_ids]
    results["notification_groups"] = [
        notification_group(g, status_post_id(g.latest), paged=paged) for g in shown
    ]
    return results


@scoped("read:notifications")
async def index(request: Request, holder: Holder) -> Response:
    """Newest first; `types[]`, `exclude_types[]`, `account_id`, `grouped_types[]`,
    `expand_accounts`, `max_id`/`since_id`/`min_id` (notification ids), `limit` (40 groups,
    at most 80), and a `Link` header whose ids are those of the groups' newest notifications."""
    _expand_accounts(request)  # refused before any work
    limit = limit_of(request, DEFAULT_LIMIT, MAX_LIMIT)
    selection = selection_of(request)
    if selection is None:
        return JSONResponse(EMPTY)
    async with request.app.state.sessions() as session:
        groups = await model.groups_for(
            session,
            holder.member,
            config=request.app.state.config,
            limit=limit,
            selection=selection,
            grouped=_grouped(request),
            oldest_first=pages_forward(request),
        )
        body = await _results(request, session, holder, groups, paged=True)
    if not groups:
        return JSONResponse(body)
    return JSONResponse(
        body, headers=links_between(request, groups[-1].latest.key.id, groups[0].latest.key.id)
    )


@scoped("read:notifications")
async def unread_count(request: Request, holder: Holder) -> Response:
    """How many groups are newer than the notifications marker (`grouped_types[]` as above)."""
    return await unread(request, holder, grouped=_grouped(request))


def _group_key(request: Request) -> GroupKey | NotificationKey:
    key = model.parse_group_key(request.path_params["group_key"])
    if key is None:  # (not `found`: mypy would widen the union to object)
        raise MastodonError(404, NOT_FOUND)
    return key


@scoped("read:notifications")
async def show(request: Request, holder: Holder) -> Response:
    """One group, as of its newest notification, with all its notifications counted."""
    key = _group_key(request)
    async with request.app.state.sessions() as session:
        one = await model.group(session, holder.member, key, config=request.app.state.config)
        body = await _results(request, session, holder, [one] if one else [], paged=False)
    if not body["notification_groups"]:
        raise MastodonError(404, NOT_FOUND)
    return JSONResponse(body)


@scoped("read:notifications")
async def accounts(request: Request, holder: Holder) -> Response:
    """The accounts of the group's notifications, newest first; `max_id`, `since_id`, `min_id`
    (notification ids) and `limit` (40, at most 80) page them, with a `Link` header."""
    key = _group_key(request)
    paging = selection_of(request) or model.EVERYTHING
    selection = replace(
        model.Selection.of_group(key), older_than=paging.older_than, newer_than=paging.newer_than
    )
    oldest_first = pages_forward(request)
    config = request.app.state.config
    async with request.app.state.sessions() as session:
        items = await model.notifications_for(
            session,
            holder.member,
            config=config,
            limit=limit_of(request, DEFAULT_LIMIT, MAX_LIMIT),
            selection=selection,
            oldest_first=oldest_first,
        )
        if oldest_first:
            items.reverse()
        shown = await accounts_by_id(session, config, (item.who.id for item in items))
    body = [shown[item.who.id] for item in items if item.who.id in shown]
    headers = links_between(request, items[-1].key.id, items[0].key.id) if items else {}
    return JSONResponse(body, headers=headers)


@scoped("write:notifications")
async def dismiss(request: Request, holder: Holder) -> Response:
    """Dismiss every notification of the group; `{}` also when it holds none (as Mastodon)."""
    key = _group_key(request)
    async with request.app.state.sessions() as session, session.begin():
        await model.dismiss_group(session, holder.member, key)
    return JSONResponse({})


# unread_count before {group_key}: it is not a group key.
routes = [
    Route("/api/v2/notifications", index),
    Route("/api/v2/notifications/unread_count", unread_count),
    Route("/api/v2/notifications/{group_key}", show),
    Route("/api/v2/notifications/{group_key}/accounts", accounts),
    Route("/api/v2/notifications/{group_key}/dismiss", dismiss, methods=["POST"]),
]
