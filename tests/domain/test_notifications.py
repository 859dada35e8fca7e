"""Notifications: derived from follows, replies and interactions; newest first, paged, filtered."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.members import NewMember, add_member, ensure_institution
from talentfed.domain.notifications import (
    KINDS,
    GroupKey,
    Notification,
    NotificationKey,
    clear,
    dismiss,
    notifications_for,
    parse_group_key,
    plain_excerpt,
    unread_count,
)
from talentfed.domain.posts import Draft
from talentfed.federation import handlers
from talentfed.federation.remote_actors import RemoteActors
from talentfed.storage.models import Actor, DomainBlock, Follow, Interaction, Object, utcnow
from tests.support import post_row, remote_actor

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _remote(name: str, host: str) -> Actor:
    return remote_actor(name, host, display_name=name.title(), url=f"https://{host}/@{name}")


def _remote_post(
    author: Actor, slug: str, *, kind: str = "note", reply_to: str | None = None, html: str = ""
) -> Object:
    return post_row(author, slug, kind, in_reply_to_uri=reply_to, content=html or f"<p>{slug}</p>")


@dataclasses.dataclass
class World:
    ada: Actor
    grace: Actor
    kim: Actor
    lee: Actor
    spam: Actor
    article: Object
    question: Object
    project: Object
    other: Object  # grace's
    # (kind, handle of who, uri of the post concerned), newest first: what ada should see.
    expected: list[tuple[str, str, str | None]]


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> World:
    """ada's three posts, and around them one of each notification, and things that are not."""
    await ensure_institution(session, config)
    ada = await add_member(session, config, NewMember("ada", "Ada Okafor"))
    grace = await add_member(session, config, NewMember("grace", "Grace"))
    kim, lee, spam = (
        _remote("kim", "lab.example"),
        _remote("lee", "uni.example"),
        _remote("spam", "bad.example"),
    )
    session.add_all([kim, lee, spam])
    await session.flush()

    article = await posts.publish(session, config, ada, Draft(kind="article", title="On ASR", body="Text."))
    question = await posts.publish(session, config, ada, Draft(kind="question", title="Why?", body="Asking."))
    project = await posts.publish(
        session, config, ada, Draft(kind="project", title="Robust ASR", body="Join us.", status="open")
    )
    other = await posts.publish(session, config, grace, Draft(kind="article", title="Grace's", body="Hers."))

    def timed(row: object, minutes: int) -> None:
        field = "published" if isinstance(row, Object) else "created_at"
        setattr(row, field, _at(minutes))

    # Follows: kim accepted, lee pending, grace (a member here) accepted; spam is on a blocked domain.
    for follower, state, minutes in ((kim, "accepted", 1), (lee, "pending", 2), (grace, "accepted", 3)):
        follow = Follow(follower_id=follower.id, followed_id=ada.id, state=state)
        timed(follow, minutes)
        session.add(follow)
    session.add(Follow(follower_id=spam.id, followed_id=ada.id, state="accepted", created_at=_at(4)))
    # Someone else's follow of grace is not ada's business.
    session.add(Follow(follower_id=kim.id, followed_id=grace.id, state="accepted", created_at=_at(5)))

    # Replies from elsewhere: a reply, an answer, interest in the project call.
    reply = _remote_post(
        kim, "reply", reply_to=article.uri, html="<p>Nice &amp; <b>clear</b></p><p>Thanks</p>"
    )
    answer = _remote_post(lee, "answer", kind="answer", reply_to=question.uri)
    interest = _remote_post(kim, "interest", reply_to=project.uri, html="<p>I would like to join.</p>")
    deleted = _remote_post(lee, "deleted", reply_to=article.uri)
    deleted.deleted_at = _at(30)
    spammy = _remote_post(spam, "spam", reply_to=article.uri)
    elsewhere = _remote_post(lee, "elsewhere", reply_to=other.uri)
    for row, minutes in ((reply, 6), (answer, 7), (interest, 8), (deleted, 9), (spammy, 10), (elsewhere, 11)):
        timed(row, minutes)
        session.add(row)
    await session.flush()

    # Replies from here: grace answers (a local answer), ada answers herself (left out).
    grace_answer = await posts.publish(
        session, config, grace, Draft(kind="answer", body="Because.", in_reply_to=question.uri)
    )
    own_reply = await posts.publish(
        session, config, ada, Draft(kind="note", body="Me.", in_reply_to=article.uri)
    )
    timed(grace_answer, 12)
    timed(own_reply, 13)

    # Interactions: likes, an announce, a mention; ada's own like and the blocked domain's are left out.
    mentioning = _remote_post(kim, "mentioning", html="<p>Ask @ada about this</p>")
    timed(mentioning, 14)
    session.add(mentioning)
    await session.flush()
    edges = [
        Interaction(kind="like", actor_id=lee.id, object_id=article.id, target_actor_id=ada.id),
        Interaction(kind="announce", actor_id=kim.id, object_id=project.id, target_actor_id=ada.id),
        Interaction(kind="mention", actor_id=kim.id, object_id=mentioning.id, target_actor_id=ada.id),
        Interaction(kind="like", actor_id=spam.id, object_id=question.id, target_actor_id=ada.id),
        Interaction(kind="like", actor_id=lee.id, object_id=other.id, target_actor_id=grace.id),
    ]
    for edge, minutes in zip(edges, (15, 16, 17, 18, 19), strict=True):
        timed(edge, minutes)
    session.add_all(edges)
    await session.flush()
    grace_like = await posts.react(session, config, grace, article, "like")
    own_like = await posts.react(session, config, ada, question, "like")
    timed(grace_like, 20)
    timed(own_like, 21)
    await session.flush()

    expected = [
        ("like", "grace@" + config.node.domain, article.uri),
        ("mention", "kim@lab.example", mentioning.uri),
        ("announce", "kim@lab.example", project.uri),
        ("like", "lee@uni.example", article.uri),
        ("answer", "grace@" + config.node.domain, question.uri),
        ("interest", "kim@lab.example", project.uri),
        ("answer", "lee@uni.example", question.uri),
        ("reply", "kim@lab.example", article.uri),
        ("follow", "grace@" + config.node.domain, None),
        ("follow_request", "lee@uni.example", None),
        ("follow", "kim@lab.example", None),
    ]
    session.add(DomainBlock(domain="bad.example"))
    await session.flush()
    return World(ada, grace, kim, lee, spam, article, question, project, other, expected)


def _summary(notifications: list[Notification]) -> list[tuple[str, str, str | None]]:
    return [(n.kind, n.who.handle, n.post.uri if n.post else None) for n in notifications]


async def test_every_kind_newest_first(session: AsyncSession, config: Config, world: World) -> None:
    found = await notifications_for(session, world.ada, config=config)
    assert _summary(found) == world.expected
    assert [n.at for n in found] == sorted((n.at for n in found), reverse=True)
    assert {n.kind for n in found} == set(KINDS)

    reply = next(n for n in found if n.kind == "reply")
    assert reply.at == _at(6)
    assert reply.who.id == world.kim.id and reply.who.display_name == "Kim"
    assert reply.who.url == "https://lab.example/@kim" and not reply.who.local
    assert reply.post.title == "On ASR" and reply.post.kind == "article"
    assert reply.reply_uri == "https://lab.example/objects/reply"
    assert reply.excerpt == "Nice & clear Thanks"

    interest = next(n for n in found if n.kind == "interest")
    assert interest.post.kind == "project" and interest.excerpt == "I would like to join."
    local_answer = next(n for n in found if n.kind == "answer" and n.who.local)
    assert local_answer.who.display_name == "Grace" and local_answer.excerpt == "Because."
    assert local_answer.post.title == "Why?"
    mention = next(n for n in found if n.kind == "mention")
    assert mention.reply_uri is None and mention.excerpt == "Ask @ada about this"
    follow = next(n for n in found if n.kind == "follow")
    assert follow.post is None and follow.reply_uri is None and follow.excerpt is None
    like = next(n for n in found if n.kind == "like")
    assert like.excerpt is None and like.reply_uri is None


async def test_own_actions_deleted_posts_and_others_business_are_left_out(
    session: AsyncSession, config: Config, world: World
) -> None:
    found = await notifications_for(session, world.ada, config=config)
    assert world.ada.id not in {n.who.id for n in found}  # her own reply and like
    assert "https://uni.example/objects/deleted" not in {n.reply_uri for n in found}
    assert "https://uni.example/objects/elsewhere" not in {n.reply_uri for n in found}
    # The member's post deleted: what concerned it goes too.
    await posts.delete(session, config, world.ada, world.project)
    found = await notifications_for(session, world.ada, config=config)
    assert world.project.uri not in {n.post.uri for n in found if n.post}
    assert len(found) == len(world.expected) - 2
    # grace sees her own notifications, not ada's.
    theirs = await notifications_for(session, world.grace, config=config)
    assert _summary(theirs) == [
        ("like", "lee@uni.example", world.other.uri),
        ("reply", "lee@uni.example", world.other.uri),
        ("follow", "kim@lab.example", None),
    ]


async def test_paging_by_before(session: AsyncSession, config: Config, world: World) -> None:
    everything = await notifications_for(session, world.ada, config=config)
    pages: list[list[Notification]] = []
    before = None
    while True:
        page = await notifications_for(session, world.ada, config=config, limit=4, before=before)
        if not page:
            break
        pages.append(page)
        before = page[-1].at
    assert [len(page) for page in pages] == [4, 4, 3]
    assert [n for page in pages for n in page] == everything
    assert await notifications_for(session, world.ada, config=config, limit=0) == []


async def test_unread_count_and_since(session: AsyncSession, config: Config, world: World) -> None:
    assert await unread_count(session, world.ada, None, config=config) == len(world.expected)
    seen_at = _at(8)  # the interest in the project call, and everything before it, was seen
    newer = await notifications_for(session, world.ada, config=config, since=seen_at)
    assert _summary(newer) == world.expected[:5]
    assert await unread_count(session, world.ada, seen_at, config=config) == 5
    assert await unread_count(session, world.ada, utcnow() + timedelta(days=3650), config=config) == 0
    assert (
        await notifications_for(session, world.ada, config=config, since=_at(8), before=_at(16)) == newer[3:]
    )


async def test_blocked_domains_are_left_out(session: AsyncSession, config: Config, world: World) -> None:
    # The fixture blocks bad.example: its follow, reply and like are not shown. Unblocked, they are.
    await session.execute(DomainBlock.__table__.delete())
    found = await notifications_for(session, world.ada, config=config)
    spam = [n.kind for n in found if n.who.id == world.spam.id]
    assert sorted(spam) == ["follow", "like", "reply"]
    assert await unread_count(session, world.ada, None, config=config) == len(world.expected) + 3

    # A block in the configuration covers subdomains too, and counts as much as a stored one.
    sub = _remote("kim", "a.lab.example")
    session.add(sub)
    await session.flush()
    session.add(Follow(follower_id=sub.id, followed_id=world.ada.id, state="accepted", created_at=_at(40)))
    await session.flush()
    blocking = dataclasses.replace(
        config,
        federation=dataclasses.replace(config.federation, blocked_domains=("lab.example", "bad.example")),
    )
    found = await notifications_for(session, world.ada, config=blocking)
    assert {n.who.handle for n in found} == {"lee@uni.example", "grace@" + config.node.domain}
    assert await unread_count(session, world.ada, None, config=blocking) == len(found)


async def test_a_reply_that_mentions_the_member_is_one_notification(
    session: AsyncSession, config: Config, world: World
) -> None:
    """Through the inbox, as Mastodon sends it: a reply to ada's article, mentioning her."""
    note = {
        "id": "https://lab.example/objects/threaded",
        "type": "Note",
        "attributedTo": world.kim.uri,
        "inReplyTo": world.article.uri,
        "content": '<p><span class="h-card"><a href="https://x">@ada</a></span> so true</p>',
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [world.ada.uri],
        "tag": [{"type": "Mention", "href": world.ada.uri, "name": "@ada"}],
        "published": "2030-01-01T13:00:00Z",
    }
    activity = {"id": note["id"] + "/activity", "type": "Create", "actor": world.kim.uri, "object": note}
    context = handlers.Context(session, config, world.kim, None, RemoteActors(None, None, config))  # type: ignore[arg-type]
    assert await handlers.dispatch(context, activity) == "post stored"
    await session.flush()
    kinds = await session.scalars(select(Interaction.kind).where(Interaction.object_id.is_not(None)))
    assert "mention" in set(kinds)  # the edge is there; the notification is the reply alone
    found = await notifications_for(session, world.ada, config=config)
    about = [n for n in found if note["id"] in (n.reply_uri, n.post.uri if n.post else None)]
    assert [(n.kind, n.at, n.post.uri, n.excerpt) for n in about] == [
        ("reply", _at(60), world.article.uri, "@ada so true")
    ]
    assert len(found) == len(world.expected) + 1


def test_plain_excerpt() -> None:
    assert plain_excerpt("<p>a&lt;b</p><p>c</p>") == "a<b c"
    assert plain_excerpt(None) == ""
    long = plain_excerpt("<p>" + "word " * 100 + "</p>", 20)
    assert long == "word word word word…"


async def test_keys_dismiss_and_clear(session: AsyncSession, config: Config, world: World) -> None:
    """Keys order as times and read back from their text; what is dismissed is gone everywhere
    (the page, the unread count), and clear dismisses the rest."""
    found = await notifications_for(session, world.ada, config=config)
    assert [NotificationKey.parse(n.key.id) for n in found] == [n.key for n in found]
    assert [n.key.id for n in found] == sorted((n.key.id for n in found), reverse=True)
    assert await dismiss(session, world.ada, found[0].key, config=config)
    assert not await dismiss(session, world.grace, found[1].key, config=config)  # not grace's
    assert await unread_count(session, world.ada, None, config=config) == len(found) - 1
    await clear(session, world.ada)
    assert await notifications_for(session, world.ada, config=config) == []
    assert await unread_count(session, world.ada, None, config=config) == 0


async def test_a_reply_the_member_may_not_read_is_not_news_to_them(
    session: AsyncSession, config: Config, world: World
) -> None:
    """A followers-only reply by someone ada does not follow, not mentioning her, is addressed to
    others: neither the notification nor its count tells her of it (domain/visibility.py)."""
    before = await unread_count(session, world.ada, None, config=config)
    hidden = _remote_post(world.lee, "for-my-followers", reply_to=world.article.uri)
    hidden.visibility, hidden.published = "followers", _at(50)
    session.add(hidden)
    await session.flush()
    found = await notifications_for(session, world.ada, config=config)
    assert hidden.uri not in {n.reply_uri for n in found}
    assert await unread_count(session, world.ada, None, config=config) == before
    session.add(Follow(follower_id=world.ada.id, followed_id=world.lee.id, state="accepted"))
    await session.flush()  # now she is one of those followers
    found = await notifications_for(session, world.ada, config=config)
    assert hidden.uri in {n.reply_uri for n in found}


def test_group_keys_name_a_window_of_twelve_hours() -> None:
    noon = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
    hours = (noon - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(hours=1)
    key = GroupKey("like", 5, hours)
    assert key.text == f"favourite-5-{hours}" and (key.starts, key.ends) == (noon, noon + timedelta(hours=12))
    assert parse_group_key(key.text) == key
    assert parse_group_key(f"reblog-5-{hours}") == GroupKey("announce", 5, hours)
    assert parse_group_key(f"follow-{hours}") == GroupKey("follow", None, hours)
    assert parse_group_key("ungrouped-" + NotificationKey(noon, 1, 3).id) == NotificationKey(noon, 1, 3)
    for bad in (
        f"follow-{hours + 1}",
        "follow-",
        "follow-１２",
        "mention-5-12",
        "favourite-5",
        "follow-999999996",
    ):
        assert parse_group_key(bad) is None, bad
