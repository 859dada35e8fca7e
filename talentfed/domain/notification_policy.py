"""A member's notification policy (Mastodon 4.3's): for notifications from people they do not
follow, people who do not follow them, new accounts, private mentions and limited accounts,
whether to accept, filter or drop them. Stored per member (`notification_policies`); what it
hides is decided where notifications are read (domain/notifications.py, `_policy_hides`).

We keep no notification requests, so `filter` hides as `drop` does (Mastodon would set the
notifications aside for the member to review). Every rule starts at `accept`, unlike Mastodon's
default of filtering private mentions and limited accounts: hiding what cannot be reviewed is
the member's choice to make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.errors import FieldError
from talentfed.storage.dialects import insert_for
from talentfed.storage.models import Actor, NotificationPolicy, utcnow

CHOICES = ("accept", "filter", "drop")
NEW_ACCOUNT_DAYS = 30  # an account younger than this is new (Mastodon's NEW_ACCOUNT_THRESHOLD)
NEW_FOLLOWER_DAYS = 3  # a follower of fewer days counts as none (NEW_FOLLOWER_THRESHOLD)


@dataclass(frozen=True)
class Policy:
    for_not_following: str = "accept"
    for_not_followers: str = "accept"
    for_new_accounts: str = "accept"
    for_private_mentions: str = "accept"
    for_limited_accounts: str = "accept"  # nothing here limits accounts: it never applies

    def hides(self, rule: str) -> bool:
        """Whether notifications that `rule` (`for_not_following`, …) names are hidden."""
        return bool(getattr(self, rule) != "accept")


RULES = tuple(f.name for f in fields(Policy))


async def policy_of(session: AsyncSession, member: Actor) -> Policy:
    row = await session.get(NotificationPolicy, member.id)
    return Policy(**{rule: getattr(row, rule) for rule in RULES}) if row is not None else Policy()


def changed(policy: Policy, changes: Mapping[str, object]) -> Policy:
    """`policy` with `changes` (rule → choice); other keys are ignored, as Mastodon ignores
    parameters it does not permit. A choice that is not accept, filter or drop is refused."""
    asked = {rule: changes[rule] for rule in RULES if rule in changes}
    for rule, choice in asked.items():
        if choice not in CHOICES:
            raise FieldError(rule, f"expected one of {', '.join(CHOICES)}")
    return replace(policy, **asked)  # type: ignore[arg-type]


async def update_policy(session: AsyncSession, member: Actor, changes: Mapping[str, object]) -> Policy:
    """Save the member's policy with `changes`; answers the policy now in force."""
    policy = changed(await policy_of(session, member), changes)
    chosen = {rule: getattr(policy, rule) for rule in RULES}
    statement = insert_for(session)(NotificationPolicy).values(
        actor_id=member.id, updated_at=utcnow(), **chosen
    )
    # An upsert: two first changes at once must not both insert.
    kept = {column: statement.excluded[column] for column in (*RULES, "updated_at")}
    await session.execute(statement.on_conflict_do_update(index_elements=["actor_id"], set_=kept))
    return policy
