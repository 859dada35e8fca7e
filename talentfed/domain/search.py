"""Search for the discovery page: people and posts across everything this node has observed.

Free text is looked up in the database's own full-text index (`talentfed.storage.search`:
FTS5 on SQLite, a GIN tsvector index on PostgreSQL) and ranked by it (bm25, ts_rank); filters
narrow it down: skill, institution (the actor's domain), project status and deadline, kind;
for the client API also a post's author and the people someone follows.
Without text, the same filters list the newest records first.

Privacy, the rule of `talentfed.domain.observed_graph`: an actor that is not both `discoverable` and
`indexable` (a missing value counts as false, as in Mastodon), or that is on a blocked domain
(configuration or the domain_blocks table, subdomains included), never appears — neither as a
person nor as the author of a post. Posts appear only if public and not deleted. Local members
are discoverable and indexable unless they opt out (`talentfed.domain.members`).

People are actors of type Person. The institution's Organization actor (ours or another
node's) and other non-person actors (services, groups) are not results; the institution filter
is how one searches an institution. Posts the institution itself publishes do appear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Row, Select, String, Subquery, case, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.errors import FieldError
from talentfed.domain.observed_graph import PERSON_TYPES
from talentfed.domain.posts import PROJECT_STATUSES
from talentfed.domain.visibility import (
    actors_listed,
    hidden_domains,
    listed,
    not_hidden,
    silenced_domains,
    unlisted_domains,
    unsilenced,
    wanted_by,
)
from talentfed.federation.account_blocks import blocking
from talentfed.federation.limits import unstorable
from talentfed.storage import search as index
from talentfed.storage.models import Actor, Follow, Object, SearchDocument
from talentfed.text import normalize_skill

POST_KINDS = ("project", "article", "question")
# The kinds one may ask for, and the kinds of result each gives.
KINDS = {
    "all": ("person", "project", "article", "question"),
    "people": ("person",),
    "projects": ("project",),
    "articles": ("article",),
    "questions": ("question",),
    "posts": POST_KINDS,  # every kind of post and no people: Mastodon's statuses
}
MAX_TEXT = 200
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_SKILL = 100
MAX_DOMAIN = 255
TITLE_CHARS = 100


class SearchError(FieldError):
    """A search cannot run as asked."""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    kind: str = "all"  # people | projects | articles | questions | all
    skill: str | None = None
    institution: str | None = None  # a domain, e.g. uni.example
    status: str | None = None  # project calls: open | closed | filled
    deadline_after: date | None = None  # project calls whose deadline is on or after this day (UTC)
    limit: int = 20
    offset: int = 0
    author_id: int | None = None  # posts by this actor only
    followed_by: int | None = None  # people this actor follows (accepted) only
    reader_id: int | None = None  # who searches: a silenced author's posts are found by followers


@dataclass(frozen=True)
class SearchHit:
    kind: str  # person | project | article | question
    id: int  # actors.id for a person, objects.id for a post
    uri: str
    url: str | None  # the page to link to, when the record has one
    title: str  # a person's name, a post's title (or the start of its text)
    snippet: str  # plain text
    skills: tuple[str, ...]  # a person's skills; a post's skills, then its hashtags
    domain: str  # the person's, or the post author's
    handle: str  # @user@domain of the person, or of the post's author
    score: float  # relevance, higher is better; 0.0 for a listing without text
    published: datetime | None
    status: str | None = None  # project calls (a call without one is open)
    deadline: datetime | None = None  # project calls


@dataclass(frozen=True)
class SearchPage:
    query: SearchQuery  # as checked: text stripped, skill normalised, institution lowercased
    hits: tuple[SearchHit, ...]
    has_more: bool

    @property
    def next_offset(self) -> int | None:
        return self.query.offset + self.query.limit if self.has_more else None


def check_query(query: SearchQuery) -> SearchQuery:
    """The query with its fields normalised, or SearchError naming the first field that is wrong."""
    if not isinstance(query.text, str):
        raise SearchError("text", "expected text")
    if len(query.text) > MAX_TEXT:
        raise SearchError("text", f"at most {MAX_TEXT} characters")
    if not isinstance(query.kind, str) or query.kind not in KINDS:
        raise SearchError("kind", f"expected one of {', '.join(KINDS)}, got {query.kind!r}")
    for name in ("skill", "institution"):
        if not isinstance(getattr(query, name), str | None):
            raise SearchError(name, "expected text")
    skill = normalize_skill(query.skill) if query.skill else None
    if skill is not None and len(skill) > MAX_SKILL:
        raise SearchError("skill", f"at most {MAX_SKILL} characters")
    institution = query.institution.strip().lower() if query.institution else None
    if institution is not None and (len(institution) > MAX_DOMAIN or " " in institution):
        raise SearchError("institution", f"expected a domain, got {query.institution!r}")
    if query.status is not None and query.status not in PROJECT_STATUSES:
        raise SearchError("status", f"expected one of {', '.join(PROJECT_STATUSES)}, got {query.status!r}")
    deadline_after = query.deadline_after
    if deadline_after is not None:
        if not isinstance(deadline_after, date):
            raise SearchError("deadline_after", "expected a date")
        deadline_after = date(deadline_after.year, deadline_after.month, deadline_after.day)
    for name, value in (("status", query.status), ("deadline_after", deadline_after)):
        if value is not None and query.kind not in ("projects", "all"):
            raise SearchError(name, "only project calls have one; ask for kind projects or all")
    for name in ("author_id", "followed_by"):
        value = getattr(query, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise SearchError(name, "expected an actor id")
    for name, number, low, high in (
        ("limit", query.limit, 1, MAX_LIMIT),
        ("offset", query.offset, 0, MAX_OFFSET),
    ):
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise SearchError(name, f"expected a whole number from {low} to {high}, got {number!r}")
    return replace(
        query,
        text=query.text.strip(),
        skill=skill or None,
        institution=institution or None,
        deadline_after=deadline_after,
    )


async def search(session: AsyncSession, config: Config, query: SearchQuery) -> SearchPage:
    """One page of people and posts matching `query`, best first (newest first without text)."""
    query = check_query(query)
    dialect = session.get_bind().dialect.name
    phrases = index.parse(query.text)
    matches = index.matches(dialect, phrases) if phrases else None
    kinds = KINDS[query.kind]
    if query.status is not None or query.deadline_after is not None:
        kinds = ("project",)
    selects = []
    if "person" in kinds:
        selects.append(_people(dialect, query, matches, await unlisted_domains(session, config)))
    post_kinds = [kind for kind in kinds if kind in POST_KINDS]
    if post_kinds:
        hidden, silenced = await hidden_domains(session, config), await silenced_domains(session, config)
        selects.append(_posts(dialect, query, matches, (hidden, silenced), post_kinds))
    ranked = union_all(*selects).subquery("ranked")
    rows = (
        await session.execute(
            select(ranked.c.kind, ranked.c.id, ranked.c.score)
            .order_by(ranked.c.score.desc(), ranked.c.at.desc(), ranked.c.kind, ranked.c.id.desc())
            .limit(query.limit + 1)
            .offset(query.offset)
        )
    ).all()
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    hits = await _hits(session, rows, index.query_words(phrases))
    return SearchPage(query, hits, has_more)


# --- the queries ----------------------------------------------------------------------------


def _ranked(query: Select[*tuple[Any, ...]], matches: Subquery | None) -> Select[*tuple[Any, ...]]:
    if matches is None:
        return query.add_columns(literal_column("0.0").label("score"))
    return query.join(matches, matches.c.document_id == SearchDocument.id).add_columns(
        matches.c.score.label("score")
    )


def _people(
    dialect: str, query: SearchQuery, matches: Subquery | None, hidden: list[str]
) -> Select[*tuple[Any, ...]]:
    people = select(
        literal_column("'person'", String).label("kind"),
        Actor.id.label("id"),
        func.coalesce(Actor.published, Actor.created_at).label("at"),
    ).join_from(Actor, SearchDocument, SearchDocument.actor_id == Actor.id)
    people = _ranked(people, matches).where(Actor.type.in_(PERSON_TYPES), actors_listed(hidden))
    if query.skill:
        people = people.where(index.json_list_contains(dialect, Actor.skills, query.skill))
    if query.institution:
        people = people.where(Actor.domain == query.institution)
    if query.followed_by is not None:
        followed = select(Follow.followed_id).where(
            Follow.follower_id == query.followed_by, Follow.state == "accepted"
        )
        people = people.where(Actor.id.in_(followed))
    return people


def _posts(
    dialect: str,
    query: SearchQuery,
    matches: Subquery | None,
    moderated: tuple[list[str], list[str]],
    kinds: list[str],
) -> Select[*tuple[Any, ...]]:
    hidden, silenced = moderated
    posts = (
        select(Object.kind.label("kind"), Object.id.label("id"), Object.published.label("at"))
        .join_from(Object, SearchDocument, SearchDocument.object_id == Object.id)
        .join(Actor, Actor.id == Object.author_id)
    )
    posts = _ranked(posts, matches).where(
        Object.kind.in_(kinds),
        listed(),
        Object.deleted_at.is_(None),
        actors_listed(hidden),
        unsilenced(silenced, query.reader_id),
        wanted_by(query.reader_id),
    )
    if query.skill:
        posts = posts.where(
            or_(
                index.json_list_contains(dialect, Object.skills, query.skill),
                index.json_list_contains(dialect, Object.tags, query.skill),
            )
        )
    if query.institution:
        posts = posts.where(Actor.domain == query.institution)
    if query.author_id is not None:
        posts = posts.where(Object.author_id == query.author_id)
    if query.status:
        posts = posts.where(func.coalesce(Object.status, "open") == query.status)
    if query.deadline_after:
        posts = posts.where(Object.deadline >= datetime.combine(query.deadline_after, time.min, tzinfo=UTC))
    return posts


# --- the page -------------------------------------------------------------------------------


async def _hits(
    session: AsyncSession, rows: Sequence[Row[*tuple[Any, ...]]], words: tuple[str, ...]
) -> tuple[SearchHit, ...]:
    person_ids = [row.id for row in rows if row.kind == "person"]
    post_ids = [row.id for row in rows if row.kind != "person"]
    found: dict[tuple[str, int], SearchHit] = {}
    if person_ids:
        people = await session.execute(
            select(Actor, SearchDocument.lead, SearchDocument.body)
            .join(SearchDocument, SearchDocument.actor_id == Actor.id)
            .where(Actor.id.in_(person_ids))
        )
        for actor, lead, body in people:
            found[("person", actor.id)] = SearchHit(
                kind="person",
                id=actor.id,
                uri=actor.uri,
                url=actor.url,
                title=actor.display_name or actor.username,
                snippet=index.snippet([lead, body], words),
                skills=tuple(actor.skills or ()),
                domain=actor.domain,
                handle=f"@{actor.handle}",
                score=0.0,
                published=actor.published,
            )
    if post_ids:
        posts = await session.execute(
            select(
                Object.id,
                Object.kind,
                Object.uri,
                Object.url,
                Object.name,
                Object.skills,
                Object.tags,
                Object.status,
                Object.deadline,
                Object.published,
                Actor.username,
                Actor.domain,
                SearchDocument.lead,
                SearchDocument.body,
            )
            .join(Actor, Actor.id == Object.author_id)
            .join(SearchDocument, SearchDocument.object_id == Object.id)
            .where(Object.id.in_(post_ids))
        )
        for post in posts:
            topics = list(dict.fromkeys([*(post.skills or ()), *(post.tags or ())]))
            found[(post.kind, post.id)] = SearchHit(
                kind=post.kind,
                id=post.id,
                uri=post.uri,
                url=post.url,
                title=post.name or index.snippet([post.lead, post.body], (), width=TITLE_CHARS),
                snippet=index.snippet([post.lead, post.body], words),
                skills=tuple(topics),
                domain=post.domain,
                handle=f"@{post.username}@{post.domain}",
                score=0.0,
                published=post.published,
                status=(post.status or "open") if post.kind == "project" else None,
                deadline=post.deadline if post.kind == "project" else None,
            )
    return tuple(
        replace(found[(row.kind, row.id)], score=round(float(row.score or 0.0), 6))
        for row in rows
        if (row.kind, row.id) in found
    )


# --- accounts by name, for @-mention completion ----------------------------------------------


@dataclass(frozen=True)
class NameQuery:
    """What an app completing `@ad` asks for: accounts whose username, or a word of whose display
    name, starts with `text` (`ada@uni` narrows the domain too); with `following`, only the
    accounts the asking member follows."""

    text: str
    limit: int = 40
    offset: int = 0
    following: bool = False


async def accounts_named(
    session: AsyncSession, config: Config, member_id: int, query: NameQuery
) -> list[Actor]:
    """Accounts this node knows whose names start as `query` asks, for the member `member_id`:
    an exact username first, then those the member follows, ours before others'. The privacy
    rule holds as for search: an actor that did not opt in to discovery (`actors_listed`) is
    found only by its exact username or by who follows it; nobody on a blocked domain is, nor an
    account the member blocks or that blocks the member (as Mastodon's account search)."""
    if len(query.text) > MAX_TEXT:
        raise SearchError("q", f"at most {MAX_TEXT} characters")
    if problem := unstorable(query.text):
        raise SearchError("q", problem)
    username, _, domain = query.text.strip().removeprefix("@").lower().partition("@")
    if not username:
        return []
    hidden = await hidden_domains(session, config)
    followed = Actor.id.in_(
        select(Follow.followed_id).where(Follow.follower_id == member_id, Follow.state == "accepted")
    )
    exact = func.lower(Actor.username) == username
    name = func.lower(func.coalesce(Actor.display_name, ""))
    found = select(Actor).where(
        or_(
            func.lower(Actor.username).startswith(username, autoescape=True),
            name.startswith(username, autoescape=True),
            name.contains(f" {username}", autoescape=True),
        ),
        not_hidden(Actor, hidden),
        or_(actors_listed(hidden), exact, followed),
        ~blocking(member_id, Actor.id),
        ~blocking(Actor.id, member_id),
    )
    if domain:
        found = found.where(func.lower(Actor.domain).startswith(domain, autoescape=True))
    if query.following:
        found = found.where(followed)
    ranked = found.order_by(
        case((exact, 0), else_=1),
        case((followed, 0), else_=1),
        Actor.local.desc(),
        func.lower(Actor.username),
        Actor.id,
    )
    return list(await session.scalars(ranked.limit(query.limit).offset(query.offset)))
