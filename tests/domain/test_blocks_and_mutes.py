"""Member blocks and mutes in the domain: what a block ends and refuses, what it hides (reading,
timelines, notifications, search), what a mute hides and for how long; on both back-ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import follows, member_blocks, mutes, timelines
from talentfed.domain.notifications import notifications_for
from talentfed.domain.paging import TimelinePage
from talentfed.domain.search import SearchQuery, search
from talentfed.domain.visibility import Viewer, may_read, readable_by
from talentfed.storage.models import (
    AccountMute,
    Activity,
    Actor,
    DeliveryJob,
    Follow,
    Interaction,
    Object,
    utcnow,
)
from tests.support.factories import local_actor_row, post_row, remote_actor


@dataclass
class World:
    ada: Actor  # our member
    bea: Actor  # another member
    kim: Actor  # elsewhere
    adas_post: Object
    kims_post: Object
    beas_post: Object


async def _world(session: AsyncSession) -> World:
    """ada and kim follow each other, bea follows ada and ada bea; kim likes ada's post."""
    listed = {"discoverable": True, "indexable": True}
    ada, bea = local_actor_row("ada", **listed), local_actor_row("bea", **listed)
    kim = remote_actor("kim", "lab.example", **listed)
    session.add_all([ada, bea, kim])
    await session.flush()
    adas = post_row(ada, "adas", "article", local=True, name="Graphs", content="<p>ada on graphs</p>")
    kims = post_row(kim, "kims", "article", name="Graphs", content="<p>kim on graphs</p>")
    beas = post_row(bea, "beas", "article", local=True, name="Graphs", content="<p>bea on graphs</p>")
    session.add_all([adas, kims, beas])
    await session.flush()
    session.add_all(
        [
            Follow(follower_id=ada.id, followed_id=kim.id, state="accepted", uri="https://uni.example/f/1"),
            Follow(follower_id=kim.id, followed_id=ada.id, state="accepted", uri="https://lab.example/f/2"),
            Follow(follower_id=bea.id, followed_id=ada.id, state="accepted"),
            Follow(follower_id=ada.id, followed_id=bea.id, state="accepted"),
            Interaction(kind="like", actor_id=kim.id, object_id=adas.id, target_actor_id=ada.id),
            Interaction(kind="like", actor_id=bea.id, object_id=adas.id, target_actor_id=ada.id),
        ]
    )
    await session.flush()
    return World(ada, bea, kim, adas, kims, beas)


async def _sent(session: AsyncSession, kind: str) -> list[tuple[str, str]]:
    """(inbox, activity's object type or id) of each queued activity of `kind`."""
    queued = select(DeliveryJob.inbox_url, Activity.document)
    rows = await session.execute(queued.join(Activity, Activity.id == DeliveryJob.activity_id))
    found = []
    for inbox, document in rows:
        if document["type"] == kind:
            obj = document["object"]
            found.append((inbox, obj["type"] if isinstance(obj, dict) else obj))
    return sorted(found)


async def _follow_pairs(session: AsyncSession) -> set[tuple[int, int]]:
    return {(f.follower_id, f.followed_id) for f in await session.scalars(select(Follow))}


async def _home(session: AsyncSession, member: Actor) -> list[int]:
    items = await timelines.home(session, member, Viewer(actor_id=member.id), TimelinePage(limit=40))
    return [item.id for item in items if isinstance(item, Object)]


async def _notifiers(session: AsyncSession, config: Config, member: Actor) -> set[str]:
    return {n.who.handle.split("@")[0] for n in await notifications_for(session, member, config=config)}


async def test_blocking_a_remote_account_ends_follows_and_tells_its_server(
    session: AsyncSession, config: Config
) -> None:
    w = await _world(session)
    block = await member_blocks.block(session, config, w.ada, w.kim)

    assert (w.ada.id, w.kim.id) not in await _follow_pairs(session)
    assert (w.kim.id, w.ada.id) not in await _follow_pairs(session)
    inbox = w.kim.inbox_url
    assert await _sent(session, "Block") == [(inbox, w.kim.uri)]
    assert await _sent(session, "Undo") == [(inbox, "Follow")]  # ada's follow of kim
    assert await _sent(session, "Reject") == [(inbox, "Follow")]  # kim's follow of ada
    assert block.uri is not None and block.uri.startswith(config.node.base_url)

    again = await member_blocks.block(session, config, w.ada, w.kim)
    assert again.id == block.id and len(await _sent(session, "Block")) == 1

    assert await member_blocks.unblock(session, config, w.ada, w.kim) is True
    undo = await session.scalar(select(Activity).where(Activity.type == "Undo").order_by(Activity.id.desc()))
    assert undo is not None and undo.document["object"] == {
        "id": block.uri, "type": "Block", "actor": w.ada.uri, "object": w.kim.uri
    }
    assert await member_blocks.unblock(session, config, w.ada, w.kim) is False


async def test_a_block_refuses_follows_either_way_until_lifted(session: AsyncSession, config: Config) -> None:
    w = await _world(session)
    await member_blocks.block(session, config, w.ada, w.bea)
    assert await _follow_pairs(session) == {(w.ada.id, w.kim.id), (w.kim.id, w.ada.id)}
    assert await _sent(session, "Block") == []  # a member here: nothing to send

    for follower, target in ((w.bea, w.ada), (w.ada, w.bea)):
        with pytest.raises(follows.FollowError, match="a block stands"):
            await follows.follow(session, config, follower, target)
    await member_blocks.unblock(session, config, w.ada, w.bea)
    edge = await follows.follow(session, config, w.bea, w.ada)
    assert edge.state == "accepted"


async def test_nobody_blocks_or_mutes_themselves(session: AsyncSession, config: Config) -> None:
    w = await _world(session)
    with pytest.raises(member_blocks.BlockError, match="itself") as blocked:
        await member_blocks.block(session, config, w.ada, w.ada)
    assert blocked.value.field == "account"
    with pytest.raises(mutes.MuteError, match="itself"):
        await mutes.mute(session, w.ada, w.ada)


async def test_whom_the_author_blocks_reads_nothing_of_theirs(session: AsyncSession, config: Config) -> None:
    w = await _world(session)
    kim_reads, bea_reads = Viewer(actor_id=w.kim.id), Viewer(actor_id=w.bea.id)
    assert await may_read(session, kim_reads, w.adas_post)
    await member_blocks.block(session, config, w.ada, w.kim)

    assert not await may_read(session, kim_reads, w.adas_post)
    assert await may_read(session, bea_reads, w.adas_post)
    readable = set(await session.scalars(select(Object.id).where(readable_by(kim_reads))))
    assert w.adas_post.id not in readable and w.beas_post.id in readable
    # The member still opens the post of someone they block (Mastodon too); it leaves their lists.
    assert await may_read(session, Viewer(actor_id=w.ada.id), w.kims_post)


async def test_a_block_hides_the_account_from_timelines_notifications_and_search(
    session: AsyncSession, config: Config
) -> None:
    w = await _world(session)
    assert w.kims_post.id in await _home(session, w.ada)
    assert await _notifiers(session, config, w.ada) == {"kim", "bea"}
    found = await search(session, config, SearchQuery(text="graphs", kind="articles", reader_id=w.ada.id))
    assert w.kims_post.id in {hit.id for hit in found.hits if hit.kind != "person"}

    await member_blocks.block(session, config, w.ada, w.kim)
    # Following kim again is refused, so the post could only come back through a stale edge.
    session.add(Follow(follower_id=w.ada.id, followed_id=w.kim.id, state="accepted"))
    await session.flush()

    assert w.kims_post.id not in await _home(session, w.ada)
    assert await _notifiers(session, config, w.ada) == {"bea"}
    found = await search(session, config, SearchQuery(text="graphs", kind="articles", reader_id=w.ada.id))
    hits = {hit.id for hit in found.hits if hit.kind != "person"}
    assert w.kims_post.id not in hits and w.beas_post.id in hits


async def test_a_mute_hides_posts_and_chosen_notifications_until_it_expires(
    session: AsyncSession, config: Config
) -> None:
    w = await _world(session)
    assert w.beas_post.id in await _home(session, w.ada)

    await mutes.mute(session, w.ada, w.bea, notifications=False)
    assert w.beas_post.id not in await _home(session, w.ada)
    assert await _notifiers(session, config, w.ada) == {"kim", "bea"}  # their notifications kept
    assert await _follow_pairs(session) >= {(w.ada.id, w.bea.id), (w.bea.id, w.ada.id)}  # follows stay
    assert await may_read(session, Viewer(actor_id=w.bea.id), w.adas_post)  # bea still reads ada

    await mutes.mute(session, w.ada, w.bea, duration=60)  # muting again takes the new settings
    assert await _notifiers(session, config, w.ada) == {"kim"}
    standing = await mutes.mute_of(session, w.ada.id, w.bea.id)
    assert standing is not None and standing.expires_at is not None
    assert timedelta(seconds=50) < standing.expires_at - utcnow() <= timedelta(seconds=60)

    await session.execute(update(AccountMute).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await mutes.mute_of(session, w.ada.id, w.bea.id) is None
    assert w.beas_post.id in await _home(session, w.ada)
    assert await _notifiers(session, config, w.ada) == {"kim", "bea"}
    assert await mutes.unmute(session, w.ada, w.bea) is False  # it had expired; the row goes
    assert await session.scalar(select(AccountMute.id)) is None


@pytest.mark.parametrize("seconds", [-1, mutes.MAX_DURATION + 1])
async def test_a_mute_lasts_zero_or_a_bounded_number_of_seconds(
    session: AsyncSession, config: Config, seconds: int
) -> None:
    w = await _world(session)
    with pytest.raises(mutes.MuteError) as refused:
        await mutes.mute(session, w.ada, w.bea, duration=seconds)
    assert refused.value.field == "duration"
    made = await mutes.mute(session, w.ada, w.bea, duration=mutes.MAX_DURATION)
    assert made.expires_at is not None
