"""Publishing and its federation: what is stored and which activities are queued to whom."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.config import Config
from talentfed.domain import posts
from talentfed.domain.demo import ensure_demo
from talentfed.domain.members import find_local_actor
from talentfed.domain.posts import Draft, PostError
from talentfed.storage.models import Activity, Actor, DeliveryJob, Follow, utcnow
from tests.support import remote_actor


@pytest.fixture
async def world(session: AsyncSession, config: Config) -> dict[str, Actor]:
    """The demo institution, with followers: two on one server (shared inbox), one elsewhere."""
    await ensure_demo(session, config)
    ada = await find_local_actor(session, "ada")
    institution = await find_local_actor(session, config.node.institution_username)
    remotes = [
        remote_actor("r1", "far.example"),
        remote_actor("r2", "far.example"),
        remote_actor("r3", "other.example", shared=False),
    ]
    session.add_all(remotes)
    await session.flush()
    for remote in remotes:
        session.add(Follow(follower_id=remote.id, followed_id=ada.id, state="accepted"))
    session.add(Follow(follower_id=remotes[2].id, followed_id=institution.id, state="accepted"))
    await session.flush()
    return {"ada": ada, "institution": institution, "r1": remotes[0], "r3": remotes[2]}


async def _queued(session: AsyncSession, activity_type: str) -> list[tuple[dict, list[str]]]:
    activities = await session.scalars(
        select(Activity).where(Activity.type == activity_type).order_by(Activity.id)
    )
    result = []
    for activity in activities:
        inboxes = await session.scalars(
            select(DeliveryJob.inbox_url).where(DeliveryJob.activity_id == activity.id)
        )
        result.append((activity.document, sorted(inboxes)))
    return result


async def test_project_call_is_created_for_followers_and_announced_by_the_institution(
    session: AsyncSession, config: Config, world: dict[str, Actor]
) -> None:
    deadline = utcnow() + timedelta(days=30)
    draft = Draft(
        kind="project",
        title="Robust ASR",
        body="We need help with **ASR**.",
        skills=("#SpeechRecognition", "Kubernetes"),
        status="open",
        deadline=deadline,
        team_size=3,
        contact="ada@uni.example",
    )
    post = await posts.publish(session, config, world["ada"], draft)
    creates = [c for c in await _queued(session, "Create") if c[0]["object"]["id"] == post.uri]
    assert len(creates) == 1
    document, inboxes = creates[0]
    # One POST per server: far.example's two followers share one inbox.
    assert inboxes == ["https://far.example/inbox", "https://other.example/users/r3/inbox"]
    note = document["object"]
    assert note["type"] == "Note" and note["postKind"] == "projectCall"
    assert note["skills"] == ["speech recognition", "kubernetes"]
    assert note["projectStatus"] == "open" and note["teamSize"] == 3
    assert note["deadline"] == deadline.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert note["institution"] == world["institution"].uri
    # A Mastodon reader sees the title, skills, deadline and status in the text.
    assert "Project call: Robust ASR" in note["content"]
    assert "#SpeechRecognition #Kubernetes" in note["content"]
    assert f"Deadline: {deadline:%Y-%m-%d}" in note["content"] and "Status: open" in note["content"]
    assert note["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert world["ada"].followers_url in note["cc"]
    announces = [a for a in await _queued(session, "Announce") if a[0]["object"] == post.uri]
    assert len(announces) == 1
    announce, announce_inboxes = announces[0]
    assert announce["actor"] == world["institution"].uri
    assert announce_inboxes == ["https://other.example/users/r3/inbox"]


async def test_article_has_an_excerpt_for_mastodon(
    session: AsyncSession, config: Config, world: dict
) -> None:
    body = "First paragraph with <script>alert(1)</script> text.\n\n" + "word " * 300
    post = await posts.publish(
        session, config, world["ada"], Draft(kind="article", title="T", body=body, tags=("NLP",))
    )
    document = (await _queued(session, "Create"))[-1][0]["object"]
    assert document["id"] == post.uri and document["type"] == "Article"
    assert document["name"] == "T" and document["url"] == post.uri
    assert document["summary"].startswith("<p>First paragraph with") and document["summary"].endswith("…</p>")
    assert "<script>" not in document["content"] and "<script>" not in document["summary"]
    assert document["contentMap"] == {"en": document["content"]}
    assert document["tag"][0]["type"] == "Hashtag" and document["tag"][0]["name"] == "#Nlp"


async def test_edit_delete_accept_and_status_are_federated(
    session: AsyncSession, config: Config, world: dict
) -> None:
    ada = world["ada"]
    question = await posts.publish(session, config, ada, Draft(kind="question", title="Q?", body="Why?"))
    answer = await posts.publish(
        session, config, ada, Draft(kind="answer", body="Because.", in_reply_to=question.uri)
    )
    assert answer.context_uri == question.uri

    await posts.accept_answer(session, config, ada, question, answer)
    update = (await _queued(session, "Update"))[-1][0]
    assert update["object"]["acceptedAnswer"] == answer.uri
    assert update["id"].startswith(question.uri + "#updates/")

    await posts.edit(
        session, config, ada, question, Draft(kind="question", title="Q, edited?", body="Why not?")
    )
    edited = (await _queued(session, "Update"))[-1][0]["object"]
    assert edited["name"] == "Q, edited?" and "updated" in edited

    project = await posts.publish(
        session, config, ada, Draft(kind="project", title="P", body="b", status="open")
    )
    await posts.set_project_status(session, config, ada, project, "filled")
    assert (await _queued(session, "Update"))[-1][0]["object"]["projectStatus"] == "filled"

    await posts.delete(session, config, ada, question)
    delete, inboxes = (await _queued(session, "Delete"))[-1]
    assert delete["object"] == {
        "id": question.uri,
        "type": "Tombstone",
        "formerType": "as:Note",
        "deleted": delete["object"]["deleted"],
    }
    assert "https://far.example/inbox" in inboxes
    assert question.deleted_at is not None and question.content is None


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (Draft(kind="article", title="", body="x"), "title"),
        (Draft(kind="article", title="x" * 301, body="x"), "title"),
        (Draft(kind="article", title="t", body="   "), "body"),
        (Draft(kind="article", title="t", body="x" * 100_001), "body"),
        (Draft(kind="poem", title="t", body="x"), "kind"),
        (Draft(kind="project", title="t", body="x", status="maybe"), "status"),
        (
            Draft(kind="project", title="t", body="x", status="open", deadline=utcnow() - timedelta(days=1)),
            "deadline",
        ),
        (Draft(kind="project", title="t", body="x", status="open", team_size=0), "team_size"),
        (Draft(kind="answer", body="x"), "in_reply_to"),
        (Draft(kind="answer", body="x", in_reply_to="https://nowhere.example/q"), "in_reply_to"),
        # What PostgreSQL cannot store is refused on every back-end.
        (Draft(kind="article", title="t\x00", body="x"), "title"),
        (Draft(kind="note", body="x", tags=("ok", "b\ud800d")), "tags"),
        (Draft(kind="project", title="t", body="x", status="open", skills=("a\x00",)), "skills"),
        (Draft(kind="note", body="x", language="a-language-tag-too-long"), "language"),
        (Draft(kind="note", body="x", language="e n"), "language"),
    ],
)
async def test_invalid_drafts_name_the_field(
    session: AsyncSession, config: Config, world: dict, draft: Draft, field: str
) -> None:
    with pytest.raises(PostError) as caught:
        await posts.publish(session, config, world["ada"], draft)
    assert caught.value.field == field


async def test_a_post_as_a_draft_writes_the_same_post(
    session: AsyncSession, config: Config, world: dict
) -> None:
    """`draft_of`: what an edit that changes only the text keeps (the client API's edit)."""
    project = await posts.publish(
        session,
        config,
        world["ada"],
        Draft(
            kind="project",
            title="Call & <response>",
            summary='A "summary" & more',
            body="Body",
            tags=("Tag",),
            skills=("Rust",),
            language="de",
            deadline=utcnow() + timedelta(days=3),
            status="filled",
            visibility="unlisted",
            team_size=3,
            contact="ada@uni.example",
        ),
    )
    before = {c.key: getattr(project, c.key) for c in project.__table__.columns if c.key not in ("updated",)}
    draft = posts.draft_of(project)
    assert (draft.summary, draft.title, draft.status, draft.team_size) == (
        'A "summary" & more',
        "Call & <response>",
        "filled",
        3,
    )
    await posts.edit(session, config, world["ada"], project, draft)
    assert {key: getattr(project, key) for key in before} == before
    assert project.updated is not None


async def test_only_the_author_changes_a_post(session: AsyncSession, config: Config, world: dict) -> None:
    grace = await find_local_actor(session, "grace")
    post = await posts.publish(session, config, world["ada"], Draft(kind="article", title="t", body="b"))
    with pytest.raises(PostError, match="only its author"):
        await posts.delete(session, config, grace, post)


async def test_answers_accepted_first_then_by_votes(
    session: AsyncSession, config: Config, world: dict
) -> None:
    from talentfed.storage.models import Interaction

    ada = world["ada"]
    question = await posts.publish(session, config, ada, Draft(kind="question", title="Q", body="?"))
    first = await posts.publish(
        session, config, ada, Draft(kind="answer", body="one", in_reply_to=question.uri)
    )
    second = await posts.publish(
        session, config, ada, Draft(kind="answer", body="two", in_reply_to=question.uri)
    )
    third = await posts.publish(
        session, config, ada, Draft(kind="answer", body="three", in_reply_to=question.uri)
    )
    session.add_all(
        [
            Interaction(kind="like", actor_id=world["r1"].id, object_id=second.id),
            Interaction(kind="like", actor_id=world["r3"].id, object_id=second.id),
        ]
    )
    await posts.accept_answer(session, config, ada, question, third)
    ranked = [(answer.uri, votes) for answer, votes in await posts.answers_to(session, question)]
    assert ranked == [(third.uri, 0), (second.uri, 2), (first.uri, 0)]


async def test_likes_and_boosts_of_remote_posts(session: AsyncSession, config: Config, world: dict) -> None:
    from talentfed.storage.models import Interaction, Object

    remote = world["r3"]
    answer = Object(
        uri="https://other.example/objects/a1",
        type="Note",
        kind="answer",
        author_id=remote.id,
        content="<p>hi</p>",
        skills=[],
        tags=[],
        extra={},
    )
    session.add(answer)
    await session.flush()
    ada = world["ada"]
    like = await posts.react(session, config, ada, answer, "like")
    again = await posts.react(session, config, ada, answer, "like")
    assert again.id == like.id  # one like per member and post
    sent, inboxes = (await _queued(session, "Like"))[-1]
    assert sent["object"] == answer.uri and sent["to"] == [remote.uri]
    assert inboxes == ["https://other.example/users/r3/inbox"]

    await posts.react(session, config, ada, answer, "announce")
    boost, boost_inboxes = (await _queued(session, "Announce"))[-1]
    assert boost["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert "https://far.example/inbox" in boost_inboxes  # ada's followers see the boost

    await posts.unreact(session, config, ada, answer, "like")
    undo = (await _queued(session, "Undo"))[-1][0]
    assert undo["object"] == {"id": like.activity_uri, "type": "Like", "actor": ada.uri, "object": answer.uri}
    remaining = await session.scalars(
        select(Interaction.kind).where(Interaction.actor_id == ada.id, Interaction.object_id == answer.id)
    )
    assert list(remaining) == ["announce"]
    with pytest.raises(PostError, match="no like"):
        await posts.unreact(session, config, ada, answer, "like")


async def test_profile_edits_federate_as_update_person(
    session: AsyncSession, config: Config, world: dict
) -> None:
    from talentfed.domain.members import ProfileChanges, update_profile

    ada = world["ada"]
    await update_profile(
        session,
        config,
        ada,
        ProfileChanges(
            headline="Lead engineer",
            skills=("#MachineLearning",),
            fields=(("ORCID", "https://orcid.org/0000-0001"),),
        ),
    )
    update, inboxes = (await _queued(session, "Update"))[-1]
    person = update["object"]
    assert person["type"] == "Person" and person["id"] == ada.uri
    assert person["headline"] == "Lead engineer" and person["skills"] == ["machine learning"]
    assert (
        person["attachment"][0]["name"] == "ORCID"
        and 'href="https://orcid.org/0000-0001"' in person["attachment"][0]["value"]
    )
    assert inboxes == ["https://far.example/inbox", "https://other.example/users/r3/inbox"]


async def test_replies_and_mentions_are_edges_shaped_like_the_inbox_records_them(
    session: AsyncSession, config: Config, world: dict[str, Actor]
) -> None:
    from talentfed.domain.notifications import notifications_for
    from talentfed.storage.models import Interaction, Object

    grace = await find_local_actor(session, "grace")
    question = await session.scalar(select(Object).where(Object.kind == "question"))
    draft = Draft(kind="answer", body="@grace@127.0.0.1:8000 see @r1", in_reply_to=question.uri)
    mentions = {"grace@127.0.0.1:8000": grace, "r1@a.example": world["r1"]}
    answer = await posts.publish(session, config, world["ada"], draft, mentions=mentions)
    edges = {
        (kind, object_id, target)
        for kind, object_id, target in await session.execute(
            select(Interaction.kind, Interaction.object_id, Interaction.target_actor_id).where(
                Interaction.actor_id == world["ada"].id, Interaction.object_id == answer.id
            )
        )
    }
    assert edges == {
        ("reply", answer.id, question.author_id),
        ("mention", answer.id, grace.id),
        ("mention", answer.id, world["r1"].id),
    }
    told = await notifications_for(session, grace, config=config)
    assert [n.kind for n in told if n.post and n.post.uri == question.uri][:1] == ["answer"]
    assert not [
        n for n in told if n.kind == "mention" and n.post and n.post.uri == answer.uri
    ]  # one is enough

    alan = await find_local_actor(session, "alan")
    article = Draft(kind="article", title="Thanks", body="Thanks @alan@127.0.0.1:8000")
    thanked = await posts.publish(
        session, config, world["ada"], article, mentions={"alan@127.0.0.1:8000": alan}
    )
    mentioned = [n for n in await notifications_for(session, alan, config=config) if n.kind == "mention"]
    assert [(n.who.handle, n.post.uri) for n in mentioned] == [("ada@127.0.0.1:8000", thanked.uri)]


async def test_a_double_favourite_at_once_is_one_like(
    engine: AsyncEngine, config: Config, backend: str
) -> None:
    """Two requests favourite the same post: the second runs while the first has not committed
    (where the back-end lets two writers overlap) and answers the same like; one Like is sent."""
    from talentfed.storage.db import session_factory
    from talentfed.storage.models import Interaction
    from tests.support.factories import post_row

    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await ensure_demo(session, config)
        author = remote_actor("r3", "other.example", shared=False)
        session.add(author)
        await session.flush()
        post = post_row(author, "p1", content="<p>hi</p>")
        session.add(post)

    async def favourite() -> Interaction:
        async with sessions() as session, session.begin():
            ada = await find_local_actor(session, "ada")
            assert ada is not None
            return await posts.react(session, config, ada, await session.merge(post), "like")

    if backend == "postgresql":
        async with sessions() as first, first.begin():
            ada = await find_local_actor(first, "ada")
            assert ada is not None
            like = await posts.react(first, config, ada, await first.merge(post), "like")
            second = asyncio.create_task(favourite())
            await asyncio.sleep(0.5)  # its INSERT waits for this transaction
            assert not second.done()
    else:  # one writer at a time: the second request comes after the first
        like = await favourite()
        second = asyncio.create_task(favourite())
    again = await second

    assert again.id == like.id
    async with sessions() as session:
        likes = await session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.kind == "like")
        )
        sent = await session.scalar(
            select(func.count()).select_from(Activity).where(Activity.type == "Like")
        )
    assert (likes, sent) == (1, 1)
