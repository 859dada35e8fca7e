"""Account migration: the rules of a Move, sent or received, in one place.

A Move says "the account `actor` now lives at `target`" ({type: Move, actor: old, object: old,
target: new}, as Mastodon and GoToSocial send it). It counts only when the target vouches for
it: the target's `alsoKnownAs` must list the origin. A target that has itself moved is refused:
a Move is followed one hop only, so two accounts that alias each other cannot bounce followers
back and forth. What a Move does here is `carry_followers`: each of our members who followed
the origin follows the target and stops following the origin, so receiving the same Move twice
changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation.account_blocks import FollowBlocked
from talentfed.federation.as_values import id_of
from talentfed.federation.following import start_following, stop_following
from talentfed.federation.limits import http_url
from talentfed.storage.models import Actor, Follow


class MoveRefused(ValueError):
    """This Move cannot happen; the text says why."""


@dataclass(frozen=True)
class MoveClaim:
    origin: str  # the account that moves (the activity's actor and object)
    target: str  # the account it moves to


def read_move(activity: dict[str, Any]) -> MoveClaim:
    """What a received Move claims; MoveRefused when its shape is not an account's move."""
    origin = id_of(activity.get("actor"))
    if not origin or id_of(activity.get("object")) != origin:
        raise MoveRefused("a Move moves its own actor: its object must be its actor")
    target = http_url(id_of(activity.get("target")))
    if not target:
        raise MoveRefused("a Move needs a target: the id (an http(s) URL) of the new account")
    return MoveClaim(origin=origin, target=target)


def check_target(origin_uri: str, target: Actor) -> None:
    """The target may receive the origin's followers: it names the origin among its aliases
    and has not moved on itself. MoveRefused with the reason otherwise."""
    if target.uri == origin_uri:
        raise MoveRefused("an account cannot move to itself")
    if origin_uri not in (target.also_known_as or []):
        raise MoveRefused(f"the target {target.uri} does not list {origin_uri} in its alsoKnownAs")
    if target.moved_to_uri:
        raise MoveRefused(
            f"the target {target.uri} has itself moved to {target.moved_to_uri}; "
            "a Move is followed one hop only"
        )


async def carry_followers(session: AsyncSession, config: Config, origin: Actor, target: Actor) -> int:
    """Each local follower of `origin` follows `target` (sending a Follow when it is remote) and
    stops following `origin` (sending Undo when it is remote); how many were carried over.
    Requests still pending are carried over as well: they asked to follow the person."""
    rows = await session.execute(
        select(Actor, Follow)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followed_id == origin.id, Actor.local.is_(True))
        .order_by(Follow.id)
    )
    carried = 0
    for follower, edge in rows.all():
        if follower.id != target.id:
            try:
                await start_following(session, config, follower, target)
            except FollowBlocked:
                continue  # as Mastodon: the old follow stays when the new one is not allowed
        await stop_following(session, config, edge, follower, origin)
        carried += 1
    return carried
