"""Flags: reports from other servers about our members.

A Flag's `object` names the reported account and some of its posts (Mastodon and GoToSocial put
the account first, then the posts; mbin the post first). We keep a report only about one of our
own members and their own posts: what another server thinks of its own or a third server's
accounts is not ours to judge, and Mastodon ignores such a Flag too. The comment (`content`, or
`summary` when only that is set) is kept as plain text, cut to `MAX_REPORT_COMMENT`.

`read_flag` is pure; `store_flag` writes the report in the inbox's transaction. The moderators'
side (the queue, resolving, acting) is domain/reports.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.as_values import clean_text, ids_of
from talentfed.federation.blocks import domain_policies
from talentfed.federation.limits import MAX_REPORT_COMMENT, MAX_REPORTED_POSTS
from talentfed.storage.models import Actor, Object, Report
from talentfed.text import html_to_excerpt

__all__ = ["IncomingFlag", "read_flag", "store_flag"]


@dataclass(frozen=True)
class IncomingFlag:
    uri: str | None
    reported: tuple[str, ...]  # the ids in `object`, accounts and posts mixed, in order
    comment: str


def read_flag(activity: dict[str, Any]) -> IncomingFlag:
    comment = clean_text(activity.get("content")) or clean_text(activity.get("summary")) or ""
    return IncomingFlag(
        uri=clean_text(activity.get("id")),
        reported=tuple(ids_of(activity.get("object")))[: MAX_REPORTED_POSTS + 1],
        comment=html_to_excerpt(comment, MAX_REPORT_COMMENT) if comment else "",
    )


async def store_flag(session: AsyncSession, config: Config, sender: Actor, flag: IncomingFlag) -> str:
    """Store the report `sender` sent, if it is about one of our members and its server's
    reports are not rejected here (`reject_reports`); say what was done."""
    if (await domain_policies(session, config)).for_domain(sender.uri).reject_reports:
        return "reports from this server are rejected here; dropped"
    if flag.uri and await session.scalar(select(Report.id).where(Report.uri == flag.uri)) is not None:
        return "report already received"
    if not flag.reported:
        return "a report that names nothing; ignored"
    accounts = list(
        await session.scalars(select(Actor).where(Actor.uri.in_(flag.reported), Actor.local.is_(True)))
    )
    posts = list(
        await session.scalars(
            select(Object).where(
                Object.uri.in_(flag.reported), Object.local.is_(True), Object.deleted_at.is_(None)
            )
        )
    )
    target_id = _first_in(flag.reported, {a.uri: a.id for a in accounts})
    if target_id is None:  # only posts named: the report is about their author
        target_id = _first_in(flag.reported, {p.uri: p.author_id for p in posts})
    if target_id is None:
        return "a report about no member of ours; ignored"
    session.add(
        Report(
            uri=flag.uri,
            reporter_id=sender.id,
            target_id=target_id,
            post_ids=sorted(p.id for p in posts if p.author_id == target_id),
            comment=flag.comment,
        )
    )
    return "report received"


def _first_in(order: tuple[str, ...], found: dict[str, int]) -> int | None:
    return next((found[uri] for uri in order if uri in found), None)
