"""Suspending a domain purges what it left here, in bounded batches, idempotently; a silenced
subdomain and allow-list mode purge nothing. On both back-ends."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config
from talentfed.domain.domain_purge import purge_batch
from talentfed.jobs.domain_purge import purge_until_done
from talentfed.storage.db import session_factory
from talentfed.storage.models import (
    Activity,
    Actor,
    ActorScore,
    DeliveryJob,
    DomainBlock,
    Follow,
    Interaction,
    MediaAttachment,
    Object,
    Recommendation,
)
from tests.support import local_actor_row, post_row, remote_actor

COUNTED = (
    Actor,
    Object,
    Follow,
    Interaction,
    MediaAttachment,
    DeliveryJob,
    Recommendation,
    Activity,
    ActorScore,
)


async def _counts(session: AsyncSession) -> dict[str, int]:
    return {
        table.__name__: await session.scalar(select(func.count()).select_from(table)) or 0
        for table in COUNTED
    }


async def _world(engine: AsyncEngine) -> None:
    """ada here; three actors on bad.example (one on a subdomain), one on ok.bad.example (only
    silenced), one on lab.example; posts, follows, likes, media, queued deliveries, scores and
    recommendations that name them."""
    async with session_factory(engine)() as session, session.begin():
        ada = local_actor_row("ada")
        bad = [remote_actor(f"b{i}", "bad.example") for i in range(2)] + [
            remote_actor("eu", "eu.bad.example")
        ]
        kept = [remote_actor("ok", "ok.bad.example"), remote_actor("kim", "lab.example")]
        session.add_all([ada, *bad, *kept])
        session.add_all(
            [DomainBlock(domain="bad.example"), DomainBlock(domain="ok.bad.example", severity="silence")]
        )
        await session.flush()
        mine = post_row(ada, "mine", local=True)
        theirs = [post_row(author, f"{author.username}-{n}") for author in [*bad, *kept] for n in range(3)]
        session.add_all([mine, *theirs])
        await session.flush()
        note = {"type": "Create", "local": False, "document": {}}
        for author in [*bad, *kept]:
            session.add(Follow(follower_id=author.id, followed_id=ada.id, state="accepted"))
            session.add(Follow(follower_id=ada.id, followed_id=author.id, state="accepted"))
            session.add(
                Interaction(kind="like", actor_id=author.id, object_id=mine.id, target_actor_id=ada.id)
            )
            session.add(MediaAttachment(actor_id=author.id, type="image", remote_url=f"{author.uri}/pic.png"))
            session.add(Activity(uri=f"{author.uri}/activities/1", actor_uri=author.uri, **note))
            session.add(ActorScore(actor_id=author.id, influence=1.0, pagerank=0.1))
            session.add(
                Recommendation(actor_id=ada.id, kind="person", rank=1, target_uri=author.uri, score=0.5)
            )
        create = Activity(
            uri=f"{ada.uri}/activities/1", actor_uri=ada.uri, type="Create", local=True, document={}
        )
        session.add(create)
        await session.flush()
        for host in ("bad.example", "eu.bad.example", "ok.bad.example", "lab.example"):
            inbox = f"https://{host}/inbox"
            session.add(DeliveryJob(activity_id=create.id, signer_id=ada.id, inbox_url=inbox, host=host))


async def test_suspend_purges_the_domain_and_its_subdomains_and_nothing_else(
    engine: AsyncEngine, config: Config
) -> None:
    await _world(engine)
    deleted = await purge_until_done(session_factory(engine), config, batch=2)
    async with session_factory(engine)() as session:
        left = await _counts(session)
        domains = set(await session.scalars(select(Actor.domain)))
        hosts = set(await session.scalars(select(DeliveryJob.host)))
        uris = set(await session.scalars(select(Recommendation.target_uri)))
    assert domains == {"uni.example", "ok.bad.example", "lab.example"}
    assert hosts == {"ok.bad.example", "lab.example"}  # queued deliveries to the suspended hosts: deleted
    assert all("bad.example/" not in uri or "ok.bad.example" in uri for uri in uris)
    # Each of the three suspended actors took 3 posts, 2 follows, 1 like, 1 picture, 1 activity,
    # 1 recommendation with it (its score by cascade); 2 deliveries.
    assert left == {
        "Actor": 3,
        "Object": 1 + 2 * 3,
        "Follow": 2 * 2,
        "Interaction": 2,
        "MediaAttachment": 2,
        "DeliveryJob": 2,
        "Recommendation": 2,
        "Activity": 2 + 1,
        "ActorScore": 2,
    }
    assert deleted == 3 * (1 + 3 + 2 + 1 + 1 + 1 + 1) + 2


async def test_a_purge_runs_in_bounded_batches_and_again_deletes_nothing(
    engine: AsyncEngine, config: Config
) -> None:
    await _world(engine)
    rounds = []
    async with session_factory(engine)() as session:
        while deleted := await purge_batch(session, config, batch=2):
            assert deleted <= 2 * 9  # at most a batch of each kind of row
            rounds.append(deleted)
            await session.commit()
        assert await purge_batch(session, config, batch=2) == 0
    assert len(rounds) > 1


async def test_allow_list_mode_hides_without_purging(engine: AsyncEngine, config: Config) -> None:
    await _world(engine)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(DomainBlock.__table__.delete())
    allowlist = dataclasses.replace(config.federation, mode="allowlist")
    deleted = await purge_until_done(
        session_factory(engine), dataclasses.replace(config, federation=allowlist)
    )
    assert deleted == 0


async def test_rejecting_media_forgets_the_pictures_and_keeps_the_rest(
    engine: AsyncEngine, config: Config
) -> None:
    async with session_factory(engine)() as session, session.begin():
        pics = remote_actor("pic", "pics.example", icon_url="https://pics.example/a.png")
        pics.image_url = "https://pics.example/h.png"
        other = remote_actor("kim", "lab.example", icon_url="https://lab.example/a.png")
        session.add_all([pics, other])
        await session.flush()
        posts = [post_row(pics, "p1"), post_row(other, "k1")]
        session.add_all(posts)
        await session.flush()
        for post in posts:
            session.add(
                MediaAttachment(
                    actor_id=post.author_id, object_id=post.id, type="image", remote_url=f"{post.uri}.png"
                )
            )
        session.add(DomainBlock(domain="pics.example", severity="noop", reject_media=True))
    async with session_factory(engine)() as session:
        assert await purge_batch(session, config) == 2  # one attachment, one actor's pictures
        await session.commit()
        assert await purge_batch(session, config) == 0
        kept = {a.username: (a.icon_url, a.image_url) for a in await session.scalars(select(Actor))}
        assert kept == {"pic": (None, None), "kim": ("https://lab.example/a.png", None)}
        remaining = [m.remote_url for m in await session.scalars(select(MediaAttachment))]
        assert remaining == [f"{posts[1].uri}.png"]
        assert await session.scalar(select(func.count()).select_from(Object)) == 2  # the posts stay
