"""Reports: members tell the moderators about an account (and some of its posts), and the
moderators resolve them.

A report comes from a member here (`file_report`; the web page, the client API) or from another
server as a Flag (federation/flags.py). A member's report about an account on another server can
be forwarded to that server (`forward`): it is sent as a Flag from the institution, so the other
moderators do not learn who reported. Moderators see the open reports, write notes, remove a
reported post, block the account's domain, and resolve; every such action is in the moderation
log (domain/moderation_log.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import moderation, moderation_log, node_about, posts
from talentfed.domain.errors import FieldError
from talentfed.domain.members import find_local_actor
from talentfed.domain.visibility import Viewer, readable_by
from talentfed.federation import activities, outbox
from talentfed.federation.limits import MAX_REPORT_COMMENT, MAX_REPORTED_POSTS
from talentfed.federation.post_store import forget_posts
from talentfed.storage.models import Actor, Object, Report, ReportNote, User, utcnow

CATEGORIES = ("spam", "legal", "violation", "other")  # Mastodon's
MAX_NOTE = 2_000


class ReportError(FieldError):
    """A report, or a moderator's action on one, refused; names the field."""


@dataclass(frozen=True)
class NewReport:
    target: Actor
    post_ids: Sequence[int] = ()
    comment: str = ""
    category: str = "other"
    rule_ids: Sequence[str] = ()  # which of the node's rules (domain/node_about.py) were broken
    forward: bool = False  # send a copy to the target's server (ignored for our own members)


async def file_report(session: AsyncSession, config: Config, reporter: Actor, new: NewReport) -> Report:
    """Store a member's report, and forward it when asked and the account is elsewhere."""
    comment = new.comment.strip()
    if new.target.id == reporter.id:
        raise ReportError("account_id", "you cannot report yourself")
    if len(comment) > MAX_REPORT_COMMENT:
        raise ReportError("comment", f"at most {MAX_REPORT_COMMENT} characters")
    if new.category not in CATEGORIES:
        raise ReportError("category", f"one of {', '.join(CATEGORIES)}")
    rules = {rule.id for rule in node_about.rules_of(config)}
    if any(rule_id not in rules for rule_id in new.rule_ids):
        raise ReportError("rule_ids", "each must be the id of one of this server's rules")
    reported = await _reported_posts(session, reporter, new.target, new.post_ids)
    report = Report(
        reporter_id=reporter.id,
        target_id=new.target.id,
        post_ids=[post.id for post in reported],
        comment=comment,
        category=new.category,
        rule_ids=sorted(set(new.rule_ids), key=int),
    )
    session.add(report)
    if new.forward and not new.target.local:
        report.uri = await _forward(session, config, new.target, reported, comment)
        report.forwarded = True
    await session.flush()
    return report


async def _reported_posts(
    session: AsyncSession, reporter: Actor, target: Actor, post_ids: Sequence[int]
) -> list[Object]:
    """The posts named, each by `target`, not deleted and readable by the reporter."""
    wanted = sorted(set(post_ids))
    if len(wanted) > MAX_REPORTED_POSTS:
        raise ReportError("status_ids", f"at most {MAX_REPORTED_POSTS} posts")
    if not wanted:
        return []
    found = list(
        await session.scalars(
            select(Object).where(
                Object.id.in_(wanted),
                Object.author_id == target.id,
                Object.deleted_at.is_(None),
                readable_by(Viewer(actor_id=reporter.id)),
            )
        )
    )
    if len(found) != len(wanted):
        raise ReportError("status_ids", "each post must be one of the reported account's that you can see")
    return found


async def _forward(
    session: AsyncSession, config: Config, target: Actor, reported: list[Object], comment: str
) -> str:
    """Send the Flag; its id."""
    institution = await find_local_actor(session, config.node.institution_username)
    if institution is None:
        raise ReportError("forward", "this node has no institution actor to send the report from")
    document = activities.flag(config, institution, target, [post.uri for post in reported], comment)
    await outbox.send(session, config, institution, document, [target], shared_inbox=False)
    return str(document["id"])


# --- the moderators' side --------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    report: Report
    reporter: Actor
    target: Actor
    posts: list[Object] = field(default_factory=list)
    notes: list[tuple[ReportNote, str]] = field(default_factory=list)  # with the author's name


async def count_open(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))
    return await session.scalar(query) or 0


async def listed_reports(session: AsyncSession, *, resolved: bool = False) -> list[ReportView]:
    """Open reports (or resolved ones), oldest open first / newest resolved first."""
    state = Report.resolved_at.is_not(None) if resolved else Report.resolved_at.is_(None)
    order = Report.id.desc() if resolved else Report.id
    rows = await session.execute(
        select(Report, Actor)
        .join(Actor, Actor.id == Report.reporter_id)
        .where(state)
        .order_by(order)
        .limit(200)
    )
    reports = [(report, reporter) for report, reporter in rows]
    targets = {
        a.id: a
        for a in await session.scalars(select(Actor).where(Actor.id.in_({r.target_id for r, _ in reports})))
    }
    return [ReportView(report, reporter, targets[report.target_id]) for report, reporter in reports]


async def report_view(session: AsyncSession, report_id: int) -> ReportView:
    report = await session.get(Report, report_id)
    if report is None:
        raise ReportError("report", "no such report")
    reporter = await session.get(Actor, report.reporter_id)
    target = await session.get(Actor, report.target_id)
    assert reporter is not None and target is not None  # the foreign keys cascade
    reported = list(
        await session.scalars(select(Object).where(Object.id.in_(report.post_ids or [])).order_by(Object.id))
    )
    notes = await session.execute(
        select(ReportNote, User.username)
        .outerjoin(User, User.id == ReportNote.author_id)
        .where(ReportNote.report_id == report.id)
        .order_by(ReportNote.id)
    )
    return ReportView(report, reporter, target, reported, [(note, name or "(gone)") for note, name in notes])


async def _report(session: AsyncSession, report_id: int) -> Report:
    report = await session.get(Report, report_id, with_for_update=True)
    if report is None:
        raise ReportError("report", "no such report")
    return report


async def resolve(session: AsyncSession, report_id: int, moderator: User, *, reopen: bool = False) -> None:
    report = await _report(session, report_id)
    if reopen:
        report.resolved_at, report.resolved_by_id = None, None
    elif report.resolved_at is None:
        report.resolved_at, report.resolved_by_id = utcnow(), moderator.id
    moderation_log.record(
        session, moderator, "reopen_report" if reopen else "resolve_report", f"report {report.id}"
    )


async def add_note(session: AsyncSession, report_id: int, moderator: User, text: str) -> None:
    text = text.strip()
    if not text:
        raise ReportError("note", "write something")
    if len(text) > MAX_NOTE:
        raise ReportError("note", f"at most {MAX_NOTE} characters")
    report = await _report(session, report_id)
    session.add(ReportNote(report_id=report.id, author_id=moderator.id, text=text))
    moderation_log.record(session, moderator, "note_report", f"report {report.id}", text)


async def remove_post(
    session: AsyncSession, config: Config, report_id: int, post_id: int, moderator: User
) -> Object:
    """Remove one of the reported posts: ours is deleted (its followers' servers get the
    Delete); another server's copy here is tombstoned."""
    report = await _report(session, report_id)
    if post_id not in (report.post_ids or []):
        raise ReportError("post", "that post is not part of this report")
    post = await session.get(Object, post_id)
    if post is None or post.deleted_at is not None:
        raise ReportError("post", "that post is already gone")
    author = await session.get(Actor, post.author_id)
    assert author is not None
    if post.local:
        await posts.delete(session, config, author, post)
    else:
        await forget_posts(session, Object.id == post.id)
    moderation_log.record(session, moderator, "remove_post", post.uri, f"report {report.id}")
    return post


async def block_domain_of_target(
    session: AsyncSession,
    config: Config,
    report_id: int,
    moderator: User,
    reason: str = "",
    severity: str = "suspend",
) -> str:
    """Suspend or silence the reported account's whole server (domain/moderation.py, which
    checks the severity and logs it)."""
    report = await _report(session, report_id)
    target = await session.get(Actor, report.target_id)
    assert target is not None
    if target.local:
        raise ReportError("action", "the account is one of our members: there is no other server to block")
    terms = moderation.BlockTerms(severity, private_comment=reason or f"report {report.id}")
    return await moderation.save_block(session, config, target.domain, terms, moderator=moderator)
