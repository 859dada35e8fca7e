"""Sending activities: record the activity and its delivery jobs in one transaction.

This is a transactional outbox. The caller's transaction stores the activity and one
delivery job per destination inbox; delivery workers (`federation/delivery.py`) pick
the jobs up after the commit. If the transaction rolls back, nothing is sent; once it
commits, nothing is lost, whatever happens to the process afterwards.

Each job keeps the id of the request whose work queued it (an inbox POST, a member's post), and
the delivery worker logs its attempts under that id (observability/logs.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.federation import activities
from talentfed.federation.addresses import never_resolves
from talentfed.federation.blocks import DomainPolicies, domain_policies
from talentfed.observability.logs import current_request_id
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow

logger = logging.getLogger("talentfed.outbox")


def inbox_of(actor: Actor) -> str:
    """One POST per server: the shared inbox when the actor has one."""
    return actor.shared_inbox_url or actor.inbox_url


def host_of(url: str) -> str:
    return (urlsplit(url).netloc or "").lower()


async def follower_recipients(session: AsyncSession, actor: Actor) -> list[Actor]:
    """Remote actors whose follow of `actor` was accepted."""
    rows = await session.scalars(
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followed_id == actor.id, Follow.state == "accepted", Actor.local.is_(False))
    )
    return list(rows)


async def send(
    session: AsyncSession,
    config: Config,
    signer: Actor,
    document: dict[str, Any],
    recipients: Iterable[Actor],
    *,
    shared_inbox: bool = True,
    policies: DomainPolicies | None = None,
    flush: bool = True,
) -> Activity:
    """Store `document` and queue it for every distinct remote inbox of `recipients`.

    With `shared_inbox` (for anything addressed to followers) a server gets one POST
    whatever the number of its actors; activities meant for one actor go to its own inbox.
    `policies`: the domain policies as the caller read them (the inbox's, cached), else read
    here; a job queued for a domain suspended since is not sent (`delivery.Deliverer`).
    Without `flush` the rows are only added: the inbox's group commit writes those of a whole
    batch in one flush (a flush each costs more than the rows).
    """
    activity = _local_activity(session, signer, document)
    blocked = policies if policies is not None else await domain_policies(session, config)
    remote = [actor for actor in recipients if not actor.local]
    inboxes = sorted({inbox_of(actor) if shared_inbox else actor.inbox_url for actor in remote})
    request_id = current_request_id()
    queued = 0
    for inbox in inboxes:
        host = host_of(inbox)
        if not blocked.refuses(host) and not never_resolves(host):
            session.add(
                DeliveryJob(
                    activity=activity,
                    signer_id=signer.id,
                    inbox_url=inbox,
                    host=host,
                    request_id=request_id,
                )
            )
            queued += 1
    if flush:
        await session.flush()
    if queued:
        logger.info(
            "queueing %s %s for %d inboxes",
            activity.type,
            activity.uri,
            queued,
            extra={"activity": activity.uri, "inboxes": queued},
        )
    return activity


async def store_local_activity(session: AsyncSession, actor: Actor, document: dict[str, Any]) -> Activity:
    activity = _local_activity(session, actor, document)
    await session.flush()
    return activity


def _local_activity(session: AsyncSession, actor: Actor, document: dict[str, Any]) -> Activity:
    """The row of an activity of ours, added to `session` (not flushed)."""
    obj = document.get("object")
    object_uri = obj.get("id") if isinstance(obj, dict) else obj if isinstance(obj, str) else None
    activity = Activity(
        uri=document["id"],
        type=document["type"],
        actor_uri=actor.uri,
        object_uri=object_uri,
        local=True,
        document=document,
    )
    session.add(activity)
    return activity


async def answer_follow(
    session: AsyncSession,
    config: Config,
    verdict: str,
    target: Actor,
    follower: Actor,
    follow_id: str,
    *,
    policies: DomainPolicies | None = None,
    flush: bool = True,
) -> Activity:
    """Accept or Reject a follow, with the Follow embedded; sent to the follower's own inbox."""
    document = activities.answer_follow(config, verdict, target, follower, follow_id)
    return await send(
        session, config, target, document, [follower], shared_inbox=False, policies=policies, flush=flush
    )
