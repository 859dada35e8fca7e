"""Remote actors: fetched once, cached in the actors table, refreshed when stale.

Also the key resolver for the signature verifier: a `keyId` is looked up among the keys
of the actors we know, and otherwise fetched — either the actor document itself
(`…#main-key`) or a separate key document, served under its own id, whose owner (on the
key's host) must list the key. Which keys an actor may list at all is
`origins.key_belongs_to`: no document can claim, and shadow, another actor's key.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.federation import webfinger
from talentfed.federation.actor_documents import InvalidDocument, RemoteActor, parse_actor
from talentfed.federation.as_values import id_of, public_keys
from talentfed.federation.blocks import DomainPolicy, domain_policies
from talentfed.federation.fetcher import Fetcher, FetchError
from talentfed.federation.limits import MAX_NAME
from talentfed.federation.origins import key_belongs_to, same_host
from talentfed.federation.signatures import KeyResolutionError
from talentfed.federation.vocabulary.reading import profile_terms
from talentfed.storage.models import Actor, utcnow
from talentfed.text import sanitize_html

logger = logging.getLogger("talentfed.actors")
REFRESH_AFTER = timedelta(days=1)
# Every signed POST asks who owns its key. The answer is kept in memory this long: what
# changes an actor in this process forgets it at once; another process (a second
# `talentfed serve` on the same database) sees the change within this time, and a rotated
# key is refetched at once because the old one fails to verify.
KEY_OWNER_TTL = 300.0  # seconds
KEY_OWNER_ENTRIES = 10_000


class ActorUnavailable(Exception):
    """A remote actor could not be fetched or is not a usable actor; the text says why."""


class RemoteActors:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], fetcher: Fetcher, config: Config) -> None:
        self.sessions = sessions
        self.fetcher = fetcher
        self.config = config
        self._key_owners: dict[str, tuple[float, Actor]] = {}

    # -- lookups -----------------------------------------------------------------

    async def get(self, uri: str, *, refresh: bool = False) -> Actor:
        """The actor with id `uri`, from the cache when fresh, else fetched and stored."""
        async with self.sessions() as session:
            actor = await session.scalar(select(Actor).where(Actor.uri == uri))
        if actor is not None and (actor.local or not (refresh or _stale(actor))):
            return actor
        try:
            return await self.fetch(uri)
        except ActorUnavailable:
            if actor is not None and not refresh:
                return actor  # a stale copy beats none while the server is down
            raise

    async def fetch(self, uri: str) -> Actor:
        policy = await self._refuse_blocked(uri)
        try:
            document = await self.fetcher.fetch_json(uri)
            remote = parse_actor(document)
        except (FetchError, InvalidDocument) as exc:
            raise ActorUnavailable(f"{uri}: {exc}") from None
        try:
            actor = await self._store(remote, policy)
        except IntegrityError:
            # Seen for the first time by several requests at once (a new server's activities
            # arriving together, in one process or several): another stored it first. Its row
            # exists now, and this copy, as fresh, updates it.
            actor = await self._store(remote, policy)
        self.forget(uri)
        return actor

    async def _store(self, remote: RemoteActor, policy: DomainPolicy) -> Actor:
        async with self.sessions() as session, session.begin():
            return await store_actor(session, remote, keep_media=not policy.media_rejected)

    async def by_handle(self, handle: str, *, refresh: bool = False) -> Actor:
        """`@user@domain` (or `user@domain`) via WebFinger, then the actor document (fetched
        even when the cached copy is fresh, with `refresh`)."""
        try:
            query = webfinger.parse_handle(handle)
        except webfinger.MalformedResource as exc:
            raise ActorUnavailable(str(exc)) from None
        async with self.sessions() as session:
            actor = await session.scalar(
                select(Actor).where(
                    func.lower(Actor.username) == query.username, Actor.domain == query.domain
                )
            )
        if actor is not None and (actor.local or not (refresh or _stale(actor))):
            return actor
        await self._refuse_blocked(query.domain)
        try:
            uri = await webfinger.lookup(self.fetcher, query, https=not self.config.federation.dev_mode)
        except (FetchError, webfinger.WebFingerError) as exc:
            raise ActorUnavailable(f"{handle}: {exc}") from None
        return await self.get(uri, refresh=True)

    async def resolve(self, handle_or_url: str, *, refresh: bool = False) -> Actor:
        if handle_or_url.startswith(("https://", "http://")):
            return await self.get(handle_or_url, refresh=refresh)
        return await self.by_handle(handle_or_url, refresh=refresh)

    async def _refuse_blocked(self, url_or_domain: str) -> DomainPolicy:
        """The domain's policy; ActorUnavailable when it is suspended here."""
        async with self.sessions() as session:
            blocked = await domain_policies(session, self.config)
        if blocked.refuses(url_or_domain):
            raise ActorUnavailable(f"{url_or_domain}: the domain is blocked")
        return blocked.for_domain(url_or_domain)

    # -- keys --------------------------------------------------------------------

    async def resolve_key(self, key_id: str, refresh: bool = False) -> str:
        """The PEM of `key_id` for the verifier; raises KeyResolutionError with a reason."""
        if not refresh:
            pem = await self._known_key(key_id)
            if pem:
                return pem
        owner_uri = await self._key_owner_uri(key_id)
        try:
            actor = await self.get(owner_uri, refresh=True)
        except ActorUnavailable as exc:
            raise KeyResolutionError(f"could not fetch the key {key_id}: {exc}") from None
        pem = _key_of(actor, key_id)
        if pem is None:
            raise KeyResolutionError(f"the actor {actor.uri} does not list the key {key_id}")
        return pem

    async def owner_of_key(self, key_id: str) -> Actor | None:
        """The stored actor that lists `key_id`: by its main key, or by the actor document
        the key id is a fragment of (an actor's second key, e.g. an Ed25519 one).

        Only an actor the key belongs to counts (`_key_of`): a row stored before that rule
        existed, listing someone else's key, never answers for it.
        The actor is a detached copy, possibly from the in-memory cache (see KEY_OWNER_TTL).
        """
        cached = self._key_owners.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < KEY_OWNER_TTL:
            return cached[1]
        async with self.sessions() as session:
            listing = or_(Actor.public_key_id == key_id, Actor.uri == _without_fragment(key_id))
            candidates = await session.scalars(select(Actor).where(listing))
            actor = next((found for found in candidates if _key_of(found, key_id)), None)
        if actor is None:
            return None
        if len(self._key_owners) >= KEY_OWNER_ENTRIES:
            del self._key_owners[next(iter(self._key_owners))]  # the oldest entry
        self._key_owners[key_id] = (time.monotonic(), actor)
        return actor

    def forget(self, actor_uri: str) -> None:
        """Drop the cached key owner `actor_uri` (it was updated, refetched or deleted)."""
        for key_id in [k for k, (_, actor) in self._key_owners.items() if actor.uri == actor_uri]:
            del self._key_owners[key_id]

    async def _known_key(self, key_id: str) -> str | None:
        owner = await self.owner_of_key(key_id)
        return _key_of(owner, key_id) if owner else None

    async def _key_owner_uri(self, key_id: str) -> str:
        """Where the owner of `key_id` lives: the key URL without fragment, or its `owner`.

        The caller fetches that actor and checks that it lists the key and that the key
        belongs to it (`_key_of`), so what a key URL says only tells where to look.
        """
        document_uri = _without_fragment(key_id)
        if document_uri != key_id:
            return document_uri  # …#main-key: the fragment of the actor document
        await self._refuse_blocked(key_id)
        try:
            # GoToSocial serves at its key URL (…/main-key) a stub of the actor, under the
            # actor's id; like Mastodon, we then read the document its own id serves.
            document = await self.fetcher.fetch_json(key_id, allow_refetch=True)
        except FetchError as exc:
            raise KeyResolutionError(f"could not fetch the key {key_id}: {exc}") from None
        if document.get("inbox") and public_keys(document):
            return str(document["id"])  # an actor: the key URL is its id, or points to it
        # fetch_json vouches only for the URL that finally served the document (after
        # redirects): a key document is what its own URL serves, nothing another URL serves.
        if document.get("id") != key_id:
            raise KeyResolutionError(f"the key {key_id} is served under another id")
        owner = id_of(document.get("owner")) or id_of(document.get("controller"))
        if not owner:
            raise KeyResolutionError(f"the key document {key_id} names no owner")
        if not same_host(owner, key_id):
            raise KeyResolutionError(f"the key {key_id} names an owner on another host, {owner}")
        return owner


def _stale(actor: Actor) -> bool:
    return actor.fetched_at is None or utcnow() - actor.fetched_at > REFRESH_AFTER


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=""))


def _key_of(actor: Actor, key_id: str) -> str | None:
    """The PEM of `key_id` if `actor` lists it and it belongs to the actor."""
    if not key_belongs_to(key_id, actor.uri):
        return None
    if actor.public_key_id == key_id and actor.public_key_pem:
        return actor.public_key_pem
    if actor.document:
        for key in public_keys(dict(actor.document)):
            if key.id == key_id:
                return key.pem
    return None


async def store_actor(session: AsyncSession, remote: RemoteActor, *, keep_media: bool = True) -> Actor:
    """Insert or update the cached copy of a remote actor; without `keep_media` (its domain's
    media are rejected here: federation/blocks.py) no avatar or header is kept."""
    actor = await session.scalar(select(Actor).where(Actor.uri == remote.id))
    domain = urlsplit(remote.id).netloc.lower()
    username = remote.preferred_username or urlsplit(remote.id).path.rstrip("/").rsplit("/", 1)[-1]
    if actor is None:
        await _free_handle(session, domain, username, remote.id)
        actor = Actor(uri=remote.id, local=False, domain=domain, username=username)
        session.add(actor)
    elif actor.local:
        raise ActorUnavailable(f"{remote.id} is a local actor; refusing a remote copy of it")
    elif actor.username != username:
        await _free_handle(session, domain, username, remote.id)
        actor.username = username
    key = remote.public_keys[0] if remote.public_keys else None
    actor.type = remote.type
    actor.display_name = remote.name
    actor.summary = sanitize_html(remote.summary) if remote.summary else None
    actor.url = remote.url
    actor.icon_url = remote.icon_url if keep_media else None
    actor.image_url = remote.image_url if keep_media else None
    actor.inbox_url = remote.inbox
    actor.outbox_url = remote.outbox
    actor.followers_url = remote.followers
    actor.following_url = remote.following
    actor.featured_url = remote.featured
    actor.shared_inbox_url = remote.shared_inbox
    actor.public_key_id = key.id if key else None
    actor.public_key_pem = key.pem if key else None
    actor.manually_approves_followers = remote.manually_approves_followers
    actor.discoverable = remote.discoverable
    actor.indexable = remote.indexable
    actor.published = remote.published
    actor.also_known_as = list(remote.also_known_as)
    actor.moved_to_uri = remote.moved_to
    actor.fields = [{"name": f.name, "value": sanitize_html(f.value)} for f in remote.fields]
    terms = profile_terms(dict(remote.raw))  # talentfed's own fields, when the actor is one of ours
    actor.skills = list(terms.skills)
    actor.headline = terms.headline
    actor.department = terms.department
    actor.open_to_collaboration = terms.open_to_collaboration
    actor.document = dict(remote.raw)
    actor.fetched_at = utcnow()
    await session.flush()
    return actor


async def _free_handle(session: AsyncSession, domain: str, username: str, new_uri: str) -> None:
    """A handle now names another actor (an account re-created on its server): rename the old row."""
    previous = await session.scalar(
        select(Actor).where(Actor.domain == domain, Actor.username == username, Actor.uri != new_uri)
    )
    if previous is not None and not previous.local:
        suffix = f"~{previous.id}"  # unique, and within the column however long the name
        previous.username = username[: MAX_NAME - len(suffix)] + suffix
        await session.flush()
