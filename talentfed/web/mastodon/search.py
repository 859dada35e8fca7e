"""`GET /api/v2/search`: accounts, statuses and hashtags, as Mastodon apps search.

Local results come from the one full-text search (`domain/search.py`), which already leaves out
people who opted out of discovery and posts that are not public; statuses are read again through
`domain/visibility.py` for whoever asks. With `resolve=true` a handle or a URL is looked up on
its server through the federation layer's fetcher, with no transaction open while we wait, and
the stored account or status is answered; a lookup that fails is no result, as on Mastodon.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from talentfed.config import Config
from talentfed.domain.profiles import profile_counts
from talentfed.domain.search import NameQuery, SearchError, SearchQuery, accounts_named, search
from talentfed.domain.visibility import ANONYMOUS, Viewer, readable_by
from talentfed.federation import webfinger
from talentfed.federation.limits import unstorable
from talentfed.federation.remote_actors import ActorUnavailable
from talentfed.federation.remote_posts import PostUnavailable
from talentfed.federation.runtime import Federation
from talentfed.storage.models import Actor, Object
from talentfed.text import normalize_skill
from talentfed.web.mastodon.accounts import accounts_json, visible_account
from talentfed.web.mastodon.auth import Holder, optional_holder, scoped
from talentfed.web.mastodon.entities import account, hashtag
from talentfed.web.mastodon.errors import NOT_FOUND, MastodonError, validation_failed
from talentfed.web.mastodon.params import row_id, whole_number
from talentfed.web.mastodon.statuses import statuses_json

logger = logging.getLogger("talentfed.mastodon.search")
Found = TypeVar("Found", Actor, Object)

RESULT_TYPES = frozenset({"accounts", "statuses", "hashtags"})
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
HASHTAG_HITS = 40  # search hits whose skills and hashtags are offered as hashtags
UNAUTHENTICATED_RESOLVE = (
    "Search queries that resolve remote resources are not supported without authentication"
)
UNAUTHENTICATED_OFFSET = "Search queries pagination is not supported without authentication"


@dataclass(frozen=True)
class Ask:
    """What a search request asks for, its parameters checked."""

    text: str
    types: frozenset[str]
    resolve: bool
    limit: int
    offset: int
    following: bool
    account_id: int | None

    @property
    def is_url(self) -> bool:
        return _is_url(self.text)

    @property
    def is_handle(self) -> bool:
        return _is_handle(self.text)


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def _is_handle(text: str) -> bool:
    try:
        webfinger.parse_handle(text)
    except webfinger.MalformedResource:
        return False
    return True


def _truthy(value: str | None) -> bool:
    return value in ("true", "1", "on")  # Rails' truthy_param?, as apps send it


def _number(request: Request, name: str, default: int) -> int:
    number = whole_number(request.query_params.get(name) or str(default), max_digits=9)
    if number is None:
        raise MastodonError(400, f"Pagination values for `{name}` must be positive whole numbers")
    return number


def _ask(request: Request) -> Ask:
    params = request.query_params
    text = params.get("q", "").strip()
    if not text:
        raise MastodonError(400, "param is missing or the value is empty or invalid: q")
    kind = params.get("type") or None
    raw_account = params.get("account_id") or None
    account_id = row_id(raw_account)
    if raw_account is not None and account_id is None:
        raise MastodonError(404, NOT_FOUND)
    return Ask(
        text=text,
        types=RESULT_TYPES if kind is None else RESULT_TYPES & {kind},  # an unknown type finds nothing
        resolve=_truthy(params.get("resolve")),
        limit=min(max(_number(request, "limit", DEFAULT_LIMIT), 1), MAX_LIMIT),
        offset=_number(request, "offset", 0) if kind else 0,  # Mastodon pages single-type searches only
        following=_truthy(params.get("following")),
        account_id=account_id,
    )


async def search_v2(request: Request) -> Response:
    """Anyone may search; a token, if given, must grant read:search."""
    holder = await optional_holder(request, "read:search")
    ask = _ask(request)
    member = holder.actor if holder is not None else None
    if member is None and ask.resolve:
        raise MastodonError(401, UNAUTHENTICATED_RESOLVE)  # only members make us fetch
    if member is None and request.query_params.get("offset"):
        raise MastodonError(401, UNAUTHENTICATED_OFFSET)
    # The network first, before any session opens: a remote server may take seconds.
    found = await _resolve(request.app.state.federation, ask) if ask.resolve else Resolved()
    config = request.app.state.config
    viewer = holder.viewer if holder is not None else ANONYMOUS
    follower = member.id if member is not None and ask.following else None
    try:
        async with request.app.state.sessions() as session:
            body = {
                "accounts": await _accounts(session, config, ask, follower, found.actor),
                "statuses": await _statuses(session, config, ask, viewer, found.post),
                "hashtags": await _hashtags(session, config, ask),
            }
    except SearchError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(body)


# --- resolving on other servers ----------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    actor: Actor | None = None
    post: Object | None = None


async def _resolve(federation: Federation, ask: Ask) -> Resolved:
    """The account or status `q` names on its server, fetched and stored if new."""
    actor = await resolve_account(federation, ask.text) if "accounts" in ask.types else None
    # A URL may name an account or a status; only a fetch tells which.
    if ask.is_url and actor is None and "statuses" in ask.types:
        return Resolved(post=await _found(federation.posts.get(ask.text)))
    return Resolved(actor=actor)


async def resolve_account(federation: Federation, text: str) -> Actor | None:
    """The account a handle (`@user@domain`) or a URL names on its server, fetched and stored
    if new; None for other text, or when the other server cannot tell us."""
    if _is_url(text):
        return await _found(federation.actors.resolve(text))
    if _is_handle(text):
        return await _found(federation.actors.by_handle(text))
    return None


async def _found(lookup: Coroutine[Any, Any, Found]) -> Found | None:
    """What the lookup finds; nothing when the other server cannot tell us, as on Mastodon."""
    try:
        return await lookup
    except (ActorUnavailable, PostUnavailable) as exc:
        logger.info("search: nothing resolved: %s", exc)
        return None


# --- the three kinds of result -----------------------------------------------------------------


def _local_text(ask: Ask) -> str | None:
    """The text for the full-text search; a URL is not text to search for."""
    return None if ask.is_url else ask.text.lstrip("#@")


async def _ids(
    session: AsyncSession, config: Config, ask: Ask, resolved: int | None, wanted: SearchQuery
) -> list[int]:
    """The resolved record first, then what the full-text search finds as `wanted` asks."""
    ids = [resolved] if resolved is not None else []
    text = _local_text(ask)
    if text:
        wanted = replace(wanted, text=text, limit=ask.limit, offset=ask.offset)
        ids += [hit.id for hit in (await search(session, config, wanted)).hits if hit.id not in ids]
    return ids[: ask.limit]


async def _accounts(
    session: AsyncSession, config: Config, ask: Ask, follower: int | None, resolved: Actor | None
) -> list[dict[str, Any]]:
    if "accounts" not in ask.types:
        return []
    people = SearchQuery(kind="people", followed_by=follower)
    ids = await _ids(session, config, ask, resolved.id if resolved else None, people)
    actors = {a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(ids)))}
    shown = []
    for actor_id in ids:
        try:  # a resolved account may be on a domain blocked since it was stored
            actor = await visible_account(session, config, actors.get(actor_id))
        except MastodonError:
            continue
        shown.append(account(actor, await profile_counts(session, actor), config))
    return shown


async def _statuses(
    session: AsyncSession, config: Config, ask: Ask, viewer: Viewer, resolved: Object | None
) -> list[dict[str, Any]]:
    if "statuses" not in ask.types:
        return []
    by_author = SearchQuery(kind="posts", author_id=ask.account_id, reader_id=viewer.actor_id)
    ids = await _ids(session, config, ask, resolved.id if resolved else None, by_author)
    return await statuses_json(session, config, await _readable(session, viewer, ids), viewer=viewer)


async def _readable(session: AsyncSession, viewer: Viewer, ids: Sequence[int]) -> list[Object]:
    """The posts `viewer` may read, in the order of `ids` (a resolved post may be followers-only)."""
    query = select(Object).where(Object.id.in_(ids), Object.deleted_at.is_(None), readable_by(viewer))
    posts = {post.id: post for post in await session.scalars(query)}
    return [posts[post_id] for post_id in ids if post_id in posts]


async def _hashtags(session: AsyncSession, config: Config, ask: Ask) -> list[dict[str, Any]]:
    """Skills and hashtags of what the search finds that contain the query, an exact match first."""
    text = _local_text(ask)
    wanted = normalize_skill(text) if text and not ask.is_handle else ""
    if "hashtags" not in ask.types or not wanted:
        return []
    page = await search(session, config, SearchQuery(text=wanted, limit=HASHTAG_HITS))
    found = (normalize_skill(skill) for hit in page.hits for skill in hit.skills)
    names = dict.fromkeys(name for name in found if wanted in name)
    ordered = sorted(names, key=lambda name: name != wanted)  # stable: keeps the search's ranking
    return [hashtag(name, config) for name in ordered[ask.offset : ask.offset + ask.limit]]


# --- accounts by name: @-mention completion ----------------------------------------------------

NAMES_LIMIT, MAX_NAMES_LIMIT = 40, 80  # Mastodon's, for accounts


@scoped("read:accounts")
async def accounts_search(request: Request, holder: Holder) -> Response:
    """`GET /api/v1/accounts/search`: accounts whose names start with `q` (domain/search.py's
    `accounts_named`); with `resolve=true`, a handle or URL is looked up on its server first (no
    transaction open) and comes first; `following=true`, only accounts the member follows."""
    params = request.query_params
    wanted = NameQuery(
        text=params.get("q", ""),
        limit=min(max(_number(request, "limit", NAMES_LIMIT), 1), MAX_NAMES_LIMIT),
        offset=_number(request, "offset", 0),
        following=_truthy(params.get("following")),
    )
    text = wanted.text.strip()
    resolved = None
    if _truthy(params.get("resolve")) and text and not unstorable(text):
        resolved = await resolve_account(request.app.state.federation, text)
    config = request.app.state.config
    try:
        async with request.app.state.sessions() as session:
            found = await accounts_named(session, config, holder.member.id, wanted)
            if resolved is not None and wanted.offset == 0 and not wanted.following:
                found = await _resolved_first(session, config, resolved, found)
            body = await accounts_json(session, config, found[: wanted.limit])
    except SearchError as exc:
        raise validation_failed(exc) from None
    return JSONResponse(body)


async def _resolved_first(
    session: AsyncSession, config: Config, resolved: Actor, found: list[Actor]
) -> list[Actor]:
    try:
        first = [await visible_account(session, config, resolved)]
    except MastodonError:  # on a domain blocked since it was stored
        first = []
    return first + [actor for actor in found if actor.id != resolved.id]


routes = [Route("/api/v2/search", search_v2), Route("/api/v1/accounts/search", accounts_search)]
