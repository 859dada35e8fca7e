"""Who may see what: the audience of a post, and which actors may be listed — each rule once,
as SQL and for a record at hand.

A post's audience (`Object.visibility`) is decided when it is written or received:
- `public`: anyone may read it, and public pages list it (home, feeds, search, Discover);
- `unlisted`: anyone may read it and the author's outbox lists it, public pages do not;
- `followers`: the author, the author's *approved* followers, and the actors it mentions;
- `direct`: the author and the actors it mentions.
A viewer is anonymous, a member signed in here, or a remote actor that signed its fetch; a
viewer on a blocked domain reads nothing, nor does a viewer whom the author blocks (a member's
block, or a remote actor's Block of a member: federation/account_blocks.py). Every reader
that lists or shows posts filters with `readable_by` (or `listed` for public pages), so the
rule is written once.

What a member chose not to see is another matter: `wanted_by` leaves out of their timelines,
thread views and search the accounts they block or mute (domain/mutes.py) and those that block
them, as Mastodon's "excluded from timeline" accounts; they may still open such a post.

Actors appear in rankings, recommendations, search results and neighbourhood pictures only when
they opted in to both `discoverable` and `indexable` (a missing value is false, as in Mastodon)
and are not on a suspended or silenced domain (`federation/blocks.py`): `actor_listed` and, in
SQL, `actors_listed`.

A silenced domain's posts stay off public pages (public timelines, search) and its accounts'
notifications are left out, except for the member who follows the author: `unsilenced`, with
the domains from `silenced_domains`, is the one condition for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from talentfed import audiences
from talentfed.config import Config
from talentfed.domain.mutes import muting
from talentfed.federation.account_blocks import blocking
from talentfed.federation.as_values import is_public
from talentfed.federation.blocks import DomainPolicies, DomainPolicy, domain_policies
from talentfed.storage.models import Actor, Follow, Interaction, Object

OPEN = audiences.OPEN  # readable by anyone
LISTED = ("public",)  # shown on public pages


@dataclass(frozen=True)
class Viewer:
    """Who is reading: `actor_id` of a member signed in or of a remote actor that signed its
    request, None for anyone else; `blocked` when the actor's domain is blocked here."""

    actor_id: int | None = None
    blocked: bool = False


ANONYMOUS = Viewer()


def readable_by(viewer: Viewer) -> ColumnElement[bool]:
    """A condition on `Object`: `viewer` may read the post."""
    if viewer.blocked:
        return false()
    anyone = Object.visibility.in_(OPEN)
    if viewer.actor_id is None:
        return anyone
    approved_follower = exists().where(
        Follow.follower_id == viewer.actor_id,
        Follow.followed_id == Object.author_id,
        Follow.state == "accepted",
    )
    mentioned = exists().where(
        Interaction.kind == "mention",
        Interaction.object_id == Object.id,
        Interaction.target_actor_id == viewer.actor_id,
    )
    audience = or_(
        anyone,
        Object.author_id == viewer.actor_id,
        and_(Object.visibility == "followers", approved_follower),
        mentioned,
    )
    return and_(audience, ~blocking(Object.author_id, viewer.actor_id))


def wanted_by(reader_id: int | None, author: Any = Object.author_id) -> ColumnElement[bool]:
    """A condition on the actor whose id is `author` (a post's author by default): the reader
    neither blocks nor mutes them, nor is blocked by them. Anyone else wants everything."""
    if reader_id is None:
        return true()
    return ~or_(blocking(reader_id, author), blocking(author, reader_id), muting(reader_id, author))


def listed() -> ColumnElement[bool]:
    """A condition on `Object`: the post belongs on public pages and public listings."""
    return Object.visibility.in_(LISTED)


def on_open_post() -> ColumnElement[bool]:
    """A condition on `Interaction`: it concerns no post, or a post anyone may read. Public
    pictures and rankings count only these: a reply or a mention in a direct post is not
    anyone else's business, not even as a line between two people."""
    on_open = exists().where(Object.id == Interaction.object_id, Object.visibility.in_(OPEN))
    return or_(Interaction.object_id.is_(None), on_open)


async def may_read(session: AsyncSession, viewer: Viewer, post: Object) -> bool:
    """`readable_by` for one post (the same SQL, so the rule stays in one place)."""
    if post.visibility in OPEN and viewer == ANONYMOUS:
        return True
    found = await session.scalar(select(Object.id).where(Object.id == post.id, readable_by(viewer)))
    return found is not None


def activity_is_public(document: dict[str, Any]) -> bool:
    """One of our activities may be read by anyone when it is addressed to the public (a
    Create of a public or unlisted post); those addressed to particular actors (Follow,
    Accept, Like, a followers-only Create) are theirs."""
    return is_public(document)


# --- actors ------------------------------------------------------------------------------------


def actor_listed(actor: Any, policies: DomainPolicies) -> bool:
    """The actor may appear in rankings, recommendations, search results and pictures."""
    if not (actor.discoverable and actor.indexable):
        return False
    return not (policies.limits(actor.uri) or policies.limits(actor.domain))


def actors_listed(hidden: list[str]) -> ColumnElement[bool]:
    """`actor_listed` as a condition on `Actor`; `hidden` comes from `unlisted_domains`."""
    opted_in = and_(Actor.discoverable.is_(True), Actor.indexable.is_(True))
    return and_(opted_in, not_hidden(Actor, hidden))


def not_hidden(actor: Any, hidden: list[str]) -> ColumnElement[bool]:
    """A condition on `actor` (`Actor` or an alias of it): not on a blocked domain; `hidden`
    comes from `hidden_domains`."""
    return actor.domain.not_in(hidden) if hidden else true()


def unsilenced(
    silenced: list[str], reader_id: int | None, author_id: Any = Object.author_id
) -> ColumnElement[bool]:
    """A condition on the actor whose id is `author_id` (a post's author by default): not on a
    silenced domain, unless `reader_id` is that actor or follows them (accepted). `silenced`
    comes from `silenced_domains`."""
    if not silenced:
        return true()
    # An alias: the caller's query may join `Actor` itself, which must not correlate here.
    silenced_actor = aliased(Actor)
    silenced_ids = select(silenced_actor.id).where(silenced_actor.domain.in_(silenced))
    on_silenced: ColumnElement[bool] = author_id.in_(silenced_ids)
    if reader_id is None:
        return ~on_silenced
    follows = exists().where(
        Follow.follower_id == reader_id, Follow.followed_id == author_id, Follow.state == "accepted"
    )
    return or_(~on_silenced, author_id == reader_id, follows)


async def hidden_domains(session: AsyncSession, config: Config) -> list[str]:
    """The observed actors' domains that are suspended (subdomains and ports included, as
    `federation/blocks.py` says), so that SQL can say `not in` what the policies say."""
    return await _domains_where(session, config, lambda policy: policy.refused)


async def silenced_domains(session: AsyncSession, config: Config) -> list[str]:
    """The observed actors' domains that are silenced (not suspended: those are hidden)."""
    return await _domains_where(session, config, lambda policy: policy.severity == "silence")


async def unlisted_domains(session: AsyncSession, config: Config) -> list[str]:
    """The observed actors' domains kept out of discovery: suspended or silenced."""
    return await _domains_where(session, config, lambda policy: policy.limited)


async def _domains_where(
    session: AsyncSession, config: Config, applies: Callable[[DomainPolicy], bool]
) -> list[str]:
    policies = await domain_policies(session, config)
    if not policies:
        return []
    domains = await session.scalars(select(Actor.domain).where(Actor.local.is_(False)).distinct())
    return [domain for domain in domains if applies(policies.for_domain(domain))]
