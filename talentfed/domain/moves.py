"""Moving accounts: a member's aliases (moving in) and a member's move to another account
(moving out), with what a moved account may no longer do.

Moving in: the member names the old account (a handle or an actor URL); once our actor
document lists it in `alsoKnownAs`, the old account may move here. Moving out: the member
names the new account, which we fetch afresh; it must list the member among its aliases
(`federation/moves.check_target`, the rule any Move obeys). Then the member's `movedTo` is set
and published (Update), a Move goes to every remote follower, and local followers are carried
over at once (`federation/moves.carry_followers`), as a receiving server does for its own.

What stays: whom the moved account follows (Mastodon keeps it too, and the member may still
want to read them), its posts, and the follows of remote followers until their servers undo
them after acting on the Move. A moved account cannot publish or edit (`posting_refusal`).

Lookups wait on other servers: callers resolve accounts (`find_account`) before their
transaction opens; the other functions take the caller's session and do not commit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.errors import FieldError
from talentfed.domain.members import send_actor_update
from talentfed.federation import activities, moves, outbox
from talentfed.federation.remote_actors import ActorUnavailable, RemoteActors
from talentfed.storage.models import Actor

MAX_ALIASES = 10  # old accounts one member may name; more than anyone moves between


class MoveError(FieldError):
    """An alias or a move refused; names the field (`alias` or `target`)."""


async def find_account(actors: RemoteActors, field: str, handle_or_url: str) -> Actor:
    """The account named by `@user@domain` or an actor URL, fetched afresh (its aliases and
    whether it moved are what we check); MoveError naming `field` when it cannot be found."""
    text = handle_or_url.strip()
    if not text:
        raise MoveError(field, "expected @user@domain or an actor URL")
    try:
        return await actors.resolve(text, refresh=True)
    except ActorUnavailable as exc:
        raise MoveError(field, f"cannot find {text[:100]}: {exc}") from None


async def add_alias(session: AsyncSession, config: Config, member: Actor, account: Actor) -> None:
    """Publish that `account` is also the member (`alsoKnownAs`), so it may move here."""
    aliases = list(member.also_known_as or [])
    if account.uri == member.uri:
        raise MoveError("alias", "an account is not an alias of itself")
    if account.uri in aliases:
        raise MoveError("alias", f"{account.uri} is already one of your aliases")
    if len(aliases) >= MAX_ALIASES:
        raise MoveError("alias", f"at most {MAX_ALIASES} aliases")
    member.also_known_as = [*aliases, account.uri]
    await send_actor_update(session, config, member)


async def remove_alias(session: AsyncSession, config: Config, member: Actor, account_uri: str) -> None:
    aliases = list(member.also_known_as or [])
    if account_uri not in aliases:
        raise MoveError("alias", f"{account_uri[:100]} is not one of your aliases")
    member.also_known_as = [uri for uri in aliases if uri != account_uri]
    await send_actor_update(session, config, member)


async def move_out(session: AsyncSession, config: Config, member: Actor, target: Actor) -> int:
    """Move the member to `target` (fetched afresh by `find_account`): set and publish
    `movedTo`, send Move to the followers, carry local followers over (how many)."""
    try:
        moves.check_target(member.uri, target)
    except moves.MoveRefused as exc:
        raise MoveError("target", str(exc)) from None
    member.moved_to_uri = target.uri
    await send_actor_update(session, config, member)
    followers = await outbox.follower_recipients(session, member)
    await outbox.send(session, config, member, activities.move(config, member, target), followers)
    return await moves.carry_followers(session, config, member, target)


async def moved_to(session: AsyncSession, actor: Actor) -> Actor | None:
    """The account `actor` moved to, when it moved and we know that account."""
    if not actor.moved_to_uri:
        return None
    return await session.scalar(select(Actor).where(Actor.uri == actor.moved_to_uri))


def posting_refusal(author: Actor) -> str | None:
    """Why `author` may not publish or edit (None when it may): a moved account's followers
    now follow the new one, so anything it posted would reach nobody who still listens."""
    if author.moved_to_uri:
        return f"this account has moved to {author.moved_to_uri}; post from the new account"
    return None
