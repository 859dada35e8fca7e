"""What a signed-in member is told about: a read-model over follows, posts and interactions.

Nothing is stored for it. Each notification is derived from a row that exists anyway:

- `follow` / `follow_request`: a row of `follows` naming the member (accepted / pending);
- `reply`, `answer`, `interest`: a post replying to one of the member's posts (an answer is a
  post of kind answer; a reply to a project call is how interest in it is shown, here and on
  Mastodon, so every other reply to a project call is `interest`);
- `like`, `announce`: an edge of `interactions` on one of the member's posts;
- `mention`: an edge of `interactions` naming the member, unless the mentioning post is
  already a reply to one of the member's posts (Mastodon mentions the author it replies to;
  one notification is enough).

Left out: the member's own actions, deleted posts (the reply, or the member's post it
concerns), actors on blocked domains, accounts the member blocks or mutes with their
notifications (federation/account_blocks.py, domain/mutes.py), what the member dismissed
(`notification_dismissals`, written by `dismiss` and `clear`), what came in a thread they had
muted (domain/thread_mutes.py) and what their notification policy hides
(domain/notification_policy.py; `_policy_rules`).
Newest first; `before` pages back in time and `since` keeps only what is newer than a moment
(what has not been seen).

Each notification has a stable key (`NotificationKey`): its time, its source table and that
row's id. The key orders notifications (newest is largest) and its text is the notification's
id in the client API, so apps can page by id (`Selection`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed.config import Config
from talentfed.domain import notification_policy, thread_mutes
from talentfed.domain.mutes import muting
from talentfed.domain.visibility import Viewer, hidden_domains, readable_by, silenced_domains, unsilenced
from talentfed.federation.account_blocks import blocking
from talentfed.storage.dialects import dialect_of, epoch_seconds
from talentfed.storage.models import MAX_ROW_ID, Actor, Follow, Interaction, NotificationDismissal, Object

KINDS = ("follow", "follow_request", "reply", "answer", "interest", "like", "announce", "mention")
EXCERPT_CHARS = 200
TITLE_CHARS = 80
MAX_LIMIT = 500

# Our kinds as Mastodon's notification types: every reply (an answer, interest in a project
# call) mentions the author it replies to on Mastodon, so apps show it as a mention.
MASTODON_TYPES = {
    "follow": "follow",
    "follow_request": "follow_request",
    "reply": "mention",
    "answer": "mention",
    "interest": "mention",
    "like": "favourite",
    "announce": "reblog",
    "mention": "mention",
}


def kinds_of_types(types: Iterable[str]) -> frozenset[str]:
    """Our kinds shown as any of Mastodon's `types` (unknown types name nothing)."""
    wanted = set(types)
    return frozenset(kind for kind, shown_as in MASTODON_TYPES.items() if shown_as in wanted)


# Sources of notifications, as `_sources` numbers them (part of every key: do not renumber).
FOLLOWS, REPLIES, REACTIONS, MENTIONS = 1, 2, 3, 4
_ZERO = datetime(1, 1, 1, tzinfo=UTC)  # any datetime is a non-negative count of µs from it
_MICROSECOND = timedelta(microseconds=1)
_TIME_DIGITS, _REF_DIGITS = 18, 10


@dataclass(frozen=True, order=True)
class NotificationKey:
    """A notification's place in the order and what it is: its time, source and row id.
    None of them changes, so neither does its text (`id`): fixed-width digits, so that
    comparing ids as numbers (or by length, then as text) keeps the order of times."""

    at: datetime
    source: int
    ref_id: int

    @property
    def id(self) -> str:
        micros = (self.at - _ZERO) // _MICROSECOND
        return f"{micros:0{_TIME_DIGITS}d}{self.source}{self.ref_id:0{_REF_DIGITS}d}"

    @classmethod
    def parse(cls, text: str) -> NotificationKey | None:
        """The key an id names, or None for text that is no notification id."""
        if not text.isascii() or not text.isdigit() or not _TIME_DIGITS + 2 <= len(text) <= 40:
            return None
        source = int(text[_TIME_DIGITS])
        if source not in (FOLLOWS, REPLIES, REACTIONS, MENTIONS):
            return None
        ref_id = int(text[_TIME_DIGITS + 1 :])
        if ref_id > MAX_ROW_ID:  # names no row (and PostgreSQL would refuse it in a query)
            return None
        try:
            at = _ZERO + int(text[:_TIME_DIGITS]) * _MICROSECOND
        except OverflowError:  # beyond year 9999
            return None
        ref_id = int(text[_TIME_DIGITS + 1 :])
        return cls(at, source, ref_id) if ref_id <= MAX_ROW_ID else None  # no row has a larger id


# --- groups: Mastodon's grouped notifications ---------------------------------------------

# Likes and announces of one post, and follows, group together when they happen in the same
# twelve hours (from midnight or from noon, UTC); every other kind stands alone (Mastodon groups
# favourite, reblog and follow, over at most twelve hours). The windows are fixed. Mastodon's
# differ (Notification::Groups#set_group_key!): a notification's hour (whole hours since 1970)
# joins the group of the same type and status whose first notification's hour is less than 12
# before it, else starts one keyed by its own hour. Derived from every notification of that
# type and status, dismissed ones included (Mastodon's key outlives them), it would read the
# same each time too; doing it in SQL needs a recursive walk per group, not done yet.
GROUPED_KINDS = frozenset({"like", "announce", "follow"})
GROUP_HOURS = 12
SAMPLE_SIZE = 8  # accounts named with a group, newest first (Mastodon's SAMPLE_ACCOUNTS_SIZE)
UNGROUPED = "ungrouped-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MOMENT = datetime.max.replace(tzinfo=UTC)
_SECOND, _HOUR = timedelta(seconds=1), timedelta(hours=1)
_GROUP_SECONDS = GROUP_HOURS * 3600
_POST_DIGITS, _BUCKET_DIGITS = 18, 9


def _bucket(at: datetime) -> int:
    """The hour (counted from 1970) that starts the twelve-hour window `at` falls in. SQL counts
    the same way (`_partition`): whole seconds, rounded down."""
    return (at - _EPOCH) // _SECOND // _GROUP_SECONDS * GROUP_HOURS


@dataclass(frozen=True)
class GroupKey:
    """A group of notifications: likes or announces of one post, or follows, in one window.
    Its text is Mastodon's shape, `favourite-<status id>-<hour>`, `reblog-…`, `follow-<hour>`."""

    kind: str  # one of GROUPED_KINDS
    post_id: int | None  # None for follows
    bucket: int  # the first hour of its window, counted from 1970

    @property
    def text(self) -> str:
        post = f"-{self.post_id}" if self.post_id is not None else ""
        return f"{MASTODON_TYPES[self.kind]}{post}-{self.bucket}"

    @property
    def starts(self) -> datetime:
        return _EPOCH + self.bucket * _HOUR

    @property
    def ends(self) -> datetime:
        return self.starts + GROUP_HOURS * _HOUR

    @classmethod
    def of(cls, item: Notification) -> GroupKey:
        return cls(item.kind, item.post.id if item.post is not None else None, _bucket(item.at))


_GROUP_KEY = re.compile(
    rf"(favourite|reblog)-(\d{{1,{_POST_DIGITS}}})-(\d{{1,{_BUCKET_DIGITS}}})|follow-(\d{{1,{_BUCKET_DIGITS}}})"
)
_KIND_OF_TYPE = {"favourite": "like", "reblog": "announce"}


def parse_group_key(text: str) -> GroupKey | NotificationKey | None:
    """What a group key names: a group, one notification (`ungrouped-<id>`), or nothing."""
    if text.startswith(UNGROUPED):
        return NotificationKey.parse(text.removeprefix(UNGROUPED))
    found = _GROUP_KEY.fullmatch(text) if text.isascii() else None
    if found is None:
        return None
    shown_as, post, bucket, follow_bucket = found.groups()
    key = (
        GroupKey("follow", None, int(follow_bucket))
        if follow_bucket is not None
        else GroupKey(_KIND_OF_TYPE[shown_as], int(post), int(bucket))
    )
    if key.bucket % GROUP_HOURS or (key.bucket + GROUP_HOURS) * _HOUR > _LAST_MOMENT - _EPOCH:
        return None  # no window starts there
    if (key.post_id or 0) > MAX_ROW_ID:
        return None  # no post has such an id
    return key


@dataclass(frozen=True)
class Selection:
    """Which notifications to read, beyond `since` and `before`: some kinds, from one actor,
    before or after a key (paging by id), up to a key, exactly one, or those of some groups."""

    kinds: frozenset[str] | None = None  # None: every kind
    from_actor_id: int | None = None
    older_than: NotificationKey | None = None
    newer_than: NotificationKey | None = None
    not_newer_than: NotificationKey | None = None
    exactly: NotificationKey | None = None
    groups: tuple[GroupKey, ...] | None = None  # in any of these groups

    @classmethod
    def of_group(cls, key: GroupKey | NotificationKey) -> Selection:
        """The notifications a group key names (`parse_group_key`)."""
        return cls(exactly=key) if isinstance(key, NotificationKey) else cls(groups=(key,))


EVERYTHING = Selection()


@dataclass(frozen=True)
class Who:
    """The other actor: enough to name and link them."""

    id: int
    display_name: str  # the display name, or the username when there is none
    handle: str  # user@domain
    url: str  # their profile page (the actor's id when they have no page)
    local: bool


@dataclass(frozen=True)
class PostRef:
    """The post a notification is about."""

    id: int
    uri: str
    url: str
    title: str  # its name, or the start of its text for posts without one
    kind: str  # article | question | answer | project | note


@dataclass(frozen=True)
class Notification:
    kind: str  # one of KINDS
    at: datetime
    who: Who
    key: NotificationKey
    # The member's post that was replied to, answered, liked or announced; for a mention, the
    # post that mentions the member; None for follows.
    post: PostRef | None = None
    reply_uri: str | None = None  # reply, answer, interest: the reply itself
    reply_id: int | None = None
    excerpt: str | None = None  # reply, answer, interest, mention: the start of its text, plain


def plain_excerpt(html: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Sanitised HTML as one line of plain text, cut at a word with an ellipsis."""
    text = re.sub(r"<br\s*/?>|</p>|</li>|</h\d>", " ", html or "", flags=re.IGNORECASE)
    text = unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        text = cut.rstrip(" ,;:.-") + "…"
    return text


# --- the query ----------------------------------------------------------------------------


def _sources(actor_id: int) -> CompoundSelect[*tuple[Any, ...]]:
    """One row per notification: (kind, at, who_id, post_id, reply_id, source, ref_id).

    `source` and `ref_id` (the row's table and id) only make the order total.
    """
    parent, post = aliased(Object), aliased(Object)
    my_posts = select(Object.uri).where(Object.author_id == actor_id)
    no_id = cast(null(), Integer)

    follows = select(
        case((Follow.state == "accepted", "follow"), else_="follow_request").label("kind"),
        Follow.created_at.label("at"),
        Follow.follower_id.label("who_id"),
        no_id.label("post_id"),
        no_id.label("reply_id"),
        literal_column(str(FOLLOWS)).label("source"),
        Follow.id.label("ref_id"),
    ).where(Follow.followed_id == actor_id, Follow.follower_id != actor_id)

    # The reply is `Object` itself, not an alias: `readable_by` is a condition on `Object`.
    replies = (
        select(
            case(
                (Object.kind == "answer", "answer"),
                (parent.kind == "project", "interest"),
                else_="reply",
            ),
            Object.published,
            Object.author_id,
            parent.id,
            Object.id,
            literal_column(str(REPLIES)),
            Object.id,
        )
        .join(parent, parent.uri == Object.in_reply_to_uri)
        .where(
            parent.author_id == actor_id,
            parent.deleted_at.is_(None),
            Object.author_id != actor_id,
            Object.deleted_at.is_(None),
            readable_by(Viewer(actor_id=actor_id)),  # a reply addressed to others is not news to them
        )
    )

    def edges(source: int) -> Select[*tuple[Any, ...]]:
        return select(
            Interaction.kind,
            Interaction.created_at,
            Interaction.actor_id,
            post.id,
            no_id,
            literal_column(str(source)),
            Interaction.id,
        ).join(post, post.id == Interaction.object_id)

    # Two branches, so that each can use its index (interactions.object_id, .target_actor_id).
    reactions = edges(REACTIONS).where(
        post.author_id == actor_id,
        post.deleted_at.is_(None),
        Interaction.kind.in_(("like", "announce")),
        Interaction.actor_id != actor_id,
    )
    mentions = edges(MENTIONS).where(
        Interaction.target_actor_id == actor_id,
        Interaction.kind == "mention",
        Interaction.actor_id != actor_id,
        post.author_id != actor_id,
        post.deleted_at.is_(None),
        or_(post.in_reply_to_uri.is_(None), post.in_reply_to_uri.not_in(my_posts)),
    )
    return union_all(follows, replies, reactions, mentions)


def _dismissed(rows: Subquery, actor_id: int) -> ColumnElement[bool]:
    return exists().where(
        NotificationDismissal.actor_id == actor_id,
        NotificationDismissal.source == rows.c.source,
        NotificationDismissal.ref_id == rows.c.ref_id,
        NotificationDismissal.at == rows.c.at,
    )


def _older(rows: Subquery, key: NotificationKey) -> ColumnElement[bool]:
    """Before `key` in the order of keys (at, source, ref_id), written out for every backend."""
    same_at = and_(
        rows.c.at == key.at,
        or_(rows.c.source < key.source, and_(rows.c.source == key.source, rows.c.ref_id < key.ref_id)),
    )
    return or_(rows.c.at < key.at, same_at)


def _newer(rows: Subquery, key: NotificationKey) -> ColumnElement[bool]:
    same_at = and_(
        rows.c.at == key.at,
        or_(rows.c.source > key.source, and_(rows.c.source == key.source, rows.c.ref_id > key.ref_id)),
    )
    return or_(rows.c.at > key.at, same_at)


def _in_group(rows: Subquery, key: GroupKey) -> ColumnElement[bool]:
    post = rows.c.post_id.is_(None) if key.post_id is None else rows.c.post_id == key.post_id
    return and_(rows.c.kind == key.kind, post, rows.c.at >= key.starts, rows.c.at < key.ends)


def _selected(rows: Subquery, selection: Selection) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if selection.kinds is not None:
        conditions.append(rows.c.kind.in_(sorted(selection.kinds)))
    if selection.from_actor_id is not None:
        conditions.append(rows.c.who_id == selection.from_actor_id)
    if selection.older_than is not None:
        conditions.append(_older(rows, selection.older_than))
    if selection.newer_than is not None:
        conditions.append(_newer(rows, selection.newer_than))
    if selection.not_newer_than is not None:
        conditions.append(~_newer(rows, selection.not_newer_than))
    if (key := selection.exactly) is not None:
        conditions += [rows.c.at == key.at, rows.c.source == key.source, rows.c.ref_id == key.ref_id]
    if selection.groups is not None:
        conditions.append(or_(false(), *(_in_group(rows, key) for key in selection.groups)))
    return conditions


@dataclass(frozen=True)
class _Filtered:
    """The notifications as a subquery, the alias of their actor (joined by `joined`), and the
    conditions that leave out what the member does not see and what the selection does not want."""

    rows: Subquery
    who: type[Actor]
    conditions: list[ColumnElement[bool]]

    def joined(self, *columns: Any) -> Select[*tuple[Any, ...]]:
        query = select(*columns).select_from(self.rows)
        return query.join(self.who, self.who.id == self.rows.c.who_id).where(*self.conditions)

    @property
    def order(self) -> tuple[ColumnElement[Any], ...]:
        return (self.rows.c.at, self.rows.c.source, self.rows.c.ref_id)


async def _filtered(
    session: AsyncSession,
    config: Config,
    actor: Actor,
    selection: Selection = EVERYTHING,
    since: datetime | None = None,
    before: datetime | None = None,
) -> _Filtered:
    rows = _sources(actor.id).subquery("notifications")
    who = aliased(Actor)
    conditions: list[ColumnElement[bool]] = [~_dismissed(rows, actor.id), *_selected(rows, selection)]
    if since is not None:
        conditions.append(rows.c.at > since)
    if before is not None:
        conditions.append(rows.c.at < before)
    hidden = await hidden_domains(session, config)
    if hidden:
        conditions.append(or_(who.local.is_(True), who.domain.not_in(hidden)))
    # A silenced domain's accounts reach the member only once the member follows them.
    conditions.append(unsilenced(await silenced_domains(session, config), actor.id, who.id))
    conditions.append(~_in_muted_thread(actor.id, rows))
    # As Mastodon: nothing from an account the member blocks, or mutes with its notifications.
    conditions.append(~blocking(actor.id, who.id))
    conditions.append(~muting(actor.id, who.id, notifications=True))
    policy = await notification_policy.policy_of(session, actor)
    hides = [
        match for rule, match in _policy_rules(actor.id, rows, who, dialect_of(session)) if policy.hides(rule)
    ]
    if hides:
        conditions.append(~or_(*hides))
    return _Filtered(rows, who, conditions)


def _in_muted_thread(actor_id: int, rows: Subquery) -> ColumnElement[bool]:
    """The notification's post is in a thread the member muted before it came
    (domain/thread_mutes.py)."""
    concerned = aliased(Object)
    return exists().where(
        concerned.id == rows.c.post_id, thread_mutes.muted_after(actor_id, concerned, rows.c.at)
    )


_DAY = 86_400


def _policy_rules(
    actor_id: int, rows: Subquery, who: type[Actor], dialect: str
) -> list[tuple[str, ColumnElement[bool]]]:
    """Which notifications each rule of a notification policy names, as Mastodon's
    NotifyService reads them; ages are counted at the notification's time, so that what a
    policy hides is the same whenever it is read."""
    at = epoch_seconds(dialect, rows.c.at)
    following = exists().where(
        Follow.follower_id == actor_id, Follow.followed_id == who.id, Follow.state == "accepted"
    )
    old_follower = exists().where(
        Follow.follower_id == who.id,
        Follow.followed_id == actor_id,
        Follow.state == "accepted",
        epoch_seconds(dialect, Follow.created_at) <= at - notification_policy.NEW_FOLLOWER_DAYS * _DAY,
    )
    born = epoch_seconds(dialect, func.coalesce(who.published, who.created_at))
    new_account = born > at - notification_policy.NEW_ACCOUNT_DAYS * _DAY
    direct = exists().where(Object.id == rows.c.post_id, Object.visibility == "direct")
    return [
        ("for_not_following", ~following),
        ("for_not_followers", ~old_follower),
        ("for_new_accounts", and_(new_account, ~following)),
        ("for_private_mentions", and_(rows.c.kind == "mention", direct, ~following)),
        ("for_limited_accounts", false()),  # no account is limited here
    ]


def _with_records(rows: Subquery) -> Select[*tuple[Any, ...]]:
    """Each notification of `rows` with the other actor, the post concerned and the reply."""
    who, post, reply = aliased(Actor), aliased(Object), aliased(Object)
    return (
        select(rows.c.kind, rows.c.source, rows.c.ref_id, rows.c.at, who, post, reply)
        .join(who, who.id == rows.c.who_id)
        .outerjoin(post, post.id == rows.c.post_id)
        .outerjoin(reply, reply.id == rows.c.reply_id)
    )


async def _read(
    session: AsyncSession, page: Select[*tuple[Any, ...]], oldest_first: bool
) -> list[Notification]:
    """The notifications a query of notification rows (`page`) finds, with their records."""
    rows = page.subquery("page")
    query = _with_records(rows).order_by(*_ordered((rows.c.at, rows.c.source, rows.c.ref_id), oldest_first))
    return [
        _notification(kind, NotificationKey(at, int(source), int(ref_id)), other, concerned, answer)
        for kind, source, ref_id, at, other, concerned, answer in await session.execute(query)
    ]


def _ordered(columns: Iterable[ColumnElement[Any]], oldest_first: bool) -> list[ColumnElement[Any]]:
    return [column.asc() if oldest_first else column.desc() for column in columns]


async def notifications_for(
    session: AsyncSession,
    actor: Actor,
    *,
    config: Config,
    since: datetime | None = None,
    limit: int = 50,
    before: datetime | None = None,
    selection: Selection = EVERYTHING,
    oldest_first: bool = False,
) -> list[Notification]:
    """The member's notifications, newest first (or oldest first): at most `limit` (capped at
    MAX_LIMIT), older than `before`, newer than `since`, and as `selection` says. The next page
    is `before=<the last one's at>` (two notifications of the very same microsecond across a
    page boundary would lose the second; `Selection.older_than` a key loses none).
    `config` is needed for the blocks it declares (`federation.blocked_domains`)."""
    limit = max(0, min(limit, MAX_LIMIT))
    if limit == 0:
        return []
    found = await _filtered(session, config, actor, selection, since, before)
    page = found.joined(*found.rows.c).order_by(*_ordered(found.order, oldest_first)).limit(limit)
    return await _read(session, page, oldest_first)


async def notification(
    session: AsyncSession, actor: Actor, key: NotificationKey, *, config: Config
) -> Notification | None:
    """The member's notification with that key, unless it is gone, hidden or dismissed."""
    found = await notifications_for(session, actor, config=config, limit=1, selection=Selection(exactly=key))
    return found[0] if found else None


async def dismiss(session: AsyncSession, actor: Actor, key: NotificationKey, *, config: Config) -> bool:
    """Dismiss one of the member's notifications; False when they have none with that key."""
    if await notification(session, actor, key, config=config) is None:
        return False
    session.add(NotificationDismissal(actor_id=actor.id, source=key.source, ref_id=key.ref_id, at=key.at))
    await session.flush()
    return True


async def clear(session: AsyncSession, actor: Actor, selection: Selection = EVERYTHING) -> None:
    """Dismiss every notification the member has now (or those `selection` names), in one
    statement; new ones still come."""
    rows = _sources(actor.id).subquery("notifications")
    current = select(literal(actor.id, Integer), rows.c.source, rows.c.ref_id, rows.c.at).where(
        ~_dismissed(rows, actor.id), *_selected(rows, selection)
    )
    columns = ["actor_id", "source", "ref_id", "at"]
    await session.execute(insert(NotificationDismissal).from_select(columns, current))


async def unread_count(
    session: AsyncSession,
    actor: Actor,
    seen_at: datetime | None = None,
    *,
    config: Config,
    selection: Selection = EVERYTHING,
    limit: int | None = None,
    grouped: frozenset[str] | None = None,
) -> int:
    """How many notifications are newer than `seen_at` (all of them when it is None) and as
    `selection` says, counting at most `limit`. With `grouped` (the kinds that may group), how
    many groups they make."""
    found = await _filtered(session, config, actor, selection, seen_at)
    if grouped is None:
        counted = found.joined(literal(1))
    else:
        ranked = _ranked(found, grouped, dialect_of(session))
        counted = select(literal(1)).select_from(ranked).where(ranked.c.rank == 1)
    if limit is not None:
        counted = counted.limit(limit)
    return int(await session.scalar(select(func.count()).select_from(counted.subquery())) or 0)


# --- reading groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Notifications read together: a group (`GroupKey`), or one notification on its own."""

    key: str  # its text: `GroupKey.text`, or `ungrouped-<notification id>`
    latest: Notification  # its newest notification in the page read: kind, time, post
    count: int  # how many it holds, up to `latest` (older ones in earlier pages too)
    sample_ids: tuple[int, ...]  # the actors of its newest notifications, newest first
    page_oldest: NotificationKey  # its oldest notification in the page read


def group_key_of(item: Notification) -> str:
    """The group a notification belongs to, as `GET /api/v1/notifications` names it."""
    return GroupKey.of(item).text if item.kind in GROUPED_KINDS else f"{UNGROUPED}{item.key.id}"


def _alone(item: Notification) -> Group:
    return Group(f"{UNGROUPED}{item.key.id}", item, 1, (item.who.id,), item.key)


def _partition(rows: Subquery, grouped: frozenset[str], dialect: str) -> list[ColumnElement[Any]]:
    """What tells groups apart in SQL: kind, post and window for the kinds that group (the same
    windows as `_bucket`), the notification's own key for the others."""
    groups = rows.c.kind.in_(sorted(grouped)) if grouped else false()
    window = epoch_seconds(dialect, rows.c.at) // _GROUP_SECONDS
    return [
        rows.c.kind,
        case((groups, rows.c.post_id), else_=rows.c.ref_id),
        case((groups, window), else_=rows.c.source),
        case((groups, null()), else_=rows.c.at),
    ]


def _ranked(found: _Filtered, grouped: frozenset[str], dialect: str) -> Subquery:
    """The notifications with `rank`: 1 for the newest of each group, 2 for the next…"""
    rank = func.row_number().over(
        partition_by=_partition(found.rows, grouped, dialect), order_by=_ordered(found.order, False)
    )
    return found.joined(*found.rows.c, rank.label("rank")).subquery("ranked")


async def groups_for(
    session: AsyncSession,
    actor: Actor,
    *,
    config: Config,
    limit: int,
    selection: Selection = EVERYTHING,
    grouped: frozenset[str] = GROUPED_KINDS,
    oldest_first: bool = False,
) -> list[Group]:
    """The member's notifications as groups, newest first: at most `limit` groups, each shown by
    its newest notification that `selection` keeps (the oldest groups first with `oldest_first`,
    to page forward; the answer is still newest first). Only the kinds in `grouped` group."""
    grouping = grouped & GROUPED_KINDS
    found = await _filtered(session, config, actor, selection)
    ranked = _ranked(found, grouping, dialect_of(session))
    order = (ranked.c.at, ranked.c.source, ranked.c.ref_id)
    page = select(ranked).where(ranked.c.rank == 1).order_by(*_ordered(order, oldest_first)).limit(limit)
    latest = await _read(session, page, oldest_first=False)
    if not latest:
        return []
    keys = {item.key: GroupKey.of(item) for item in latest if item.kind in grouping}
    details = await _details(session, config, actor, set(keys.values()), latest[0].key, latest[-1].key)
    return [_group(item, keys.get(item.key), details) for item in latest]


async def group(
    session: AsyncSession, actor: Actor, key: GroupKey | NotificationKey, *, config: Config
) -> Group | None:
    """The group a key names (`parse_group_key`), as of its newest notification; None if it
    holds none the member sees."""
    latest = await notifications_for(
        session, actor, config=config, limit=1, selection=Selection.of_group(key)
    )
    if not latest or isinstance(key, NotificationKey):
        return _alone(latest[0]) if latest else None
    return _group(latest[0], key, await _details(session, config, actor, {key}, latest[0].key, None))


async def dismiss_group(session: AsyncSession, actor: Actor, key: GroupKey | NotificationKey) -> None:
    """Dismiss every notification of the group (none: nothing happens, as on Mastodon)."""
    await clear(session, actor, Selection.of_group(key))


@dataclass
class _Details:
    count: int = 0
    sample_ids: list[int] = field(default_factory=list)
    page_oldest: NotificationKey | None = None


def _group(item: Notification, key: GroupKey | None, details: dict[GroupKey, _Details]) -> Group:
    if key is None or key not in details:
        return _alone(item)
    found = details[key]
    return Group(key.text, item, found.count, tuple(found.sample_ids), found.page_oldest or item.key)


async def _details(
    session: AsyncSession,
    config: Config,
    actor: Actor,
    keys: set[GroupKey],
    newest: NotificationKey,
    oldest: NotificationKey | None,
) -> dict[GroupKey, _Details]:
    """For each group, up to the page's `newest` notification: how many it holds, its newest
    actors, and its oldest notification not older than the page's `oldest` (Mastodon counts a
    group's notifications that came before the page, and names only those in the page)."""
    if not keys:
        return {}
    found = await _filtered(session, config, actor, Selection(groups=tuple(keys), not_newer_than=newest))
    rows, part = found.rows, _partition(found.rows, GROUPED_KINDS, dialect_of(session))
    before_page = _older(rows, oldest) if oldest is not None else false()
    from_oldest = [case((before_page, 1), else_=0), *_ordered(found.order, True)]
    ranked = found.joined(
        rows.c.kind,
        rows.c.post_id,
        rows.c.who_id,
        *found.order,
        func.row_number().over(partition_by=part, order_by=_ordered(found.order, False)).label("newest"),
        func.row_number().over(partition_by=part, order_by=from_oldest).label("oldest"),
        func.count().over(partition_by=part).label("total"),
        before_page.label("before_page"),
    ).subquery("members")
    query = select(ranked).where(or_(ranked.c.newest <= SAMPLE_SIZE, ranked.c.oldest == 1))
    details: dict[GroupKey, _Details] = {}
    for row in (await session.execute(query.order_by(ranked.c.newest))).mappings():
        key = GroupKey(row["kind"], row["post_id"], _bucket(row["at"]))
        entry = details.setdefault(key, _Details(count=int(row["total"])))
        if row["newest"] <= SAMPLE_SIZE and row["who_id"] not in entry.sample_ids:
            entry.sample_ids.append(row["who_id"])
        if row["oldest"] == 1 and not row["before_page"]:
            entry.page_oldest = NotificationKey(row["at"], int(row["source"]), int(row["ref_id"]))
    return details


def _notification(
    kind: str, key: NotificationKey, other: Actor, post: Object | None, reply: Object | None
) -> Notification:
    excerpt = None
    if reply is not None:
        excerpt = plain_excerpt(reply.content or reply.summary or reply.name)
    elif kind == "mention" and post is not None:
        excerpt = plain_excerpt(post.content or post.summary or post.name)
    return Notification(
        kind=kind,
        at=key.at,
        key=key,
        who=Who(
            id=other.id,
            display_name=other.display_name or other.username,
            handle=other.handle,
            url=other.url or other.uri,
            local=other.local,
        ),
        post=_post_ref(post) if post is not None else None,
        reply_uri=reply.uri if reply is not None else None,
        reply_id=reply.id if reply is not None else None,
        excerpt=excerpt,
    )


def _post_ref(post: Object) -> PostRef:
    title = post.name or plain_excerpt(post.content or post.summary, TITLE_CHARS)
    return PostRef(id=post.id, uri=post.uri, url=post.url or post.uri, title=title, kind=post.kind)
