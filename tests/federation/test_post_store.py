"""The post store (`post_store.store_post`) on SQLite and PostgreSQL: insert, update, the
answer rule (`talentfed.kinds`), the refusals."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from talentfed.federation.context import LEGACY_CONTEXT_IRI
from talentfed.federation.post_reader import read_post
from talentfed.federation.post_store import (
    ABSENT_POSTS,
    NAMED_ACTORS,
    IngestError,
    note_absent_posts,
    note_named,
    store_post,
)
from talentfed.storage.db import session_factory
from talentfed.storage.models import Actor, MediaAttachment, Object, PostEdit, utcnow
from tests.federation.test_post_reader import (
    AS,
    NON_POSTS,
    OBJECT_FILES,
    _note,
    _project,
    at,
    load,
    objects_to_read,
    post_of,
)
from tests.support.factories import actor_row_at

# --- storing, on both databases ----------------------------------------------------------------


async def _actor(
    session: AsyncSession, uri: str, *, followers: str | None = None, local: bool = False
) -> Actor:
    actor = actor_row_at(uri, local=local, shared_inbox_url=None, followers_url=followers)
    session.add(actor)
    await session.flush()
    return actor


async def _reload(engine: AsyncEngine, uri: str) -> Object:
    async with session_factory(engine)() as fresh:
        row = await fresh.scalar(select(Object).where(Object.uri == uri))
    assert row is not None
    return row


async def test_store_a_mastodon_note(session: AsyncSession, engine: AsyncEngine) -> None:
    admin = await _actor(
        session,
        "http://mastodon.example.org/users/admin",
        followers="http://mastodon.example.org/users/admin/followers",
    )
    post = post_of("mastodon-create-hashtag.json")
    stored = await store_post(session, post, admin)
    await session.commit()

    row = await _reload(engine, post.uri)
    assert row.id == stored.id
    assert (row.type, row.kind, row.local, row.author_id) == ("Note", "note", False, admin.id)
    assert (row.visibility, row.sensitive, row.summary, row.tags) == ("public", True, "cw", ["moo"])
    assert row.content == post.content
    assert row.url == "http://mastodon.example.org/@admin/99512778738411822"
    assert row.published == at(2018, 2, 12, 14, 8, 20)
    assert row.updated is None
    assert row.document == dict(post.document)
    assert row.extra == {
        "mentions": [
            {"href": "http://localtesting.pleroma.lol/users/lain", "name": "@lain@localtesting.pleroma.lol"}
        ],
    }


async def test_store_a_project_call_keeps_its_structured_fields(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    ada = await _actor(session, "https://uni.example/users/ada")
    document = _project(
        [AS, {"t": "https://w3id.org/talentfed#"}],
        attachment=[
            {"type": "Document", "url": "https://uni.example/call.pdf", "mediaType": "application/pdf"}
        ],
        **{
            "t:postKind": "projectCall",
            "t:skills": ["Rust", "#MachineLearning"],
            "t:projectStatus": "filled",
            "t:deadline": "2030-01-31T12:00:00Z",
            "t:teamSize": 4,
            "t:contact": "ada@uni.example",
            "t:institution": {"id": "https://uni.example/users/institution"},
        },
    )
    await store_post(session, read_post(document), ada)
    await session.commit()

    row = await _reload(engine, document["id"])
    assert (row.kind, row.skills, row.status, row.deadline) == (
        "project",
        ["rust", "machine learning"],
        "filled",
        at(2030, 1, 31, 12, 0),
    )
    assert row.extra == {
        "teamSize": 4,
        "contact": "ada@uni.example",
        "institution": "https://uni.example/users/institution",
        "mentions": [],
    }
    [call] = await _media(engine, row.id)
    assert (call.remote_url, call.type, call.media_type) == (
        "https://uni.example/call.pdf",
        "unknown",
        "application/pdf",
    )


async def _media(engine: AsyncEngine, object_id: int) -> list[MediaAttachment]:
    async with session_factory(engine)() as fresh:
        query = select(MediaAttachment).where(MediaAttachment.object_id == object_id)
        return list(await fresh.scalars(query.order_by(MediaAttachment.position)))


async def test_attachments_are_stored_as_links_and_an_update_replaces_them(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    """Mastodon's pictures and GoToSocial's: rows with the remote URL, nothing downloaded."""
    author = await _actor(session, "https://cdn.masto.host/users/kde")
    pictures = [
        {
            "type": "Document",
            "mediaType": "image/jpeg",
            "url": f"https://cdn.masto.host/files/{i}.jpg",
            "name": f"picture {i}",
            "blurhash": "USQv:h-W-qI-^,W;RPs=^-R%NZxbo#sDobSc",
            "width": 1500,
            "height": 1095,
            "focalPoint": [0.5, -0.25],
        }
        for i in range(20)
    ]
    note = _note(id="https://cdn.masto.host/notes/1", attributedTo=author.uri, attachment=pictures)
    stored = await store_post(session, read_post(note), author)
    await session.commit()
    rows = await _media(engine, stored.id)
    assert len(rows) == 16  # as many as Mastodon keeps of a remote post
    first = rows[0]
    assert (first.remote_url, first.file_name, first.type, first.description) == (
        "https://cdn.masto.host/files/0.jpg",
        None,
        "image",
        "picture 0",
    )
    assert (first.width, first.height, first.focus_x, first.focus_y) == (1500, 1095, 0.5, -0.25)
    assert [row.position for row in rows] == list(range(16)) and first.actor_id == author.id

    edited = {**note, "attachment": pictures[19], "updated": "2030-01-01T00:00:00Z"}
    await store_post(session, read_post(edited), author)
    await session.commit()
    assert [row.remote_url for row in await _media(engine, stored.id)] == [
        "https://cdn.masto.host/files/19.jpg"
    ]


async def test_an_update_keeps_published_and_sets_updated(session: AsyncSession, engine: AsyncEngine) -> None:
    bob = await _actor(session, "https://remote.example/users/bob")
    first = await store_post(session, read_post(_note(published="2024-01-01T00:00:00Z", extra_key=1)), bob)
    first.extra = {**first.extra, "likes": 3}  # something else's bookkeeping survives an update
    await session.commit()

    edited = _note(content="<p>edited</p>", published="2030-01-01T00:00:00Z", updated="2024-01-02T00:00:00Z")
    second = await store_post(session, read_post(edited), bob)
    await session.commit()
    assert second.id == first.id
    row = await _reload(engine, first.uri)
    assert (row.content, row.published, row.updated) == ("<p>edited</p>", at(2024, 1, 1), at(2024, 1, 2))
    assert row.extra["likes"] == 3

    # An older version delivered late changes nothing.
    stale = _note(content="<p>stale</p>", updated="2024-01-01T12:00:00Z")
    await store_post(session, read_post(stale), bob)
    await session.commit()
    assert (await _reload(engine, first.uri)).content == "<p>edited</p>"

    # An edit without `updated` is stamped now.
    before = utcnow()
    await store_post(session, read_post(_note(content="<p>again</p>")), bob)
    await session.commit()
    row = await _reload(engine, first.uri)
    assert (
        row.content == "<p>again</p>"
        and row.updated is not None
        and row.updated >= before - timedelta(seconds=1)
    )


async def _edits(engine: AsyncEngine, uri: str) -> list[PostEdit]:
    async with session_factory(engine)() as fresh:
        return list(
            await fresh.scalars(
                select(PostEdit)
                .join(Object, Object.id == PostEdit.object_id)
                .where(Object.uri == uri)
                .order_by(PostEdit.id)
            )
        )


async def test_an_update_that_changes_the_text_keeps_the_replaced_version(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    """The history of a remote post (Mastodon's status edits): the version an Update replaces
    is kept, through the same `post_edits.record_edit` as our members' edits."""
    bob = await _actor(session, "https://remote.example/users/bob")
    first = _note(content="<p>first</p>", summary="cw", sensitive=True, published="2024-01-01T00:00:00Z")
    await store_post(session, read_post(first), bob)
    await session.commit()
    assert await _edits(engine, first["id"]) == []

    second = _note(content="<p>second</p>", updated="2024-01-02T00:00:00Z")
    await store_post(session, read_post(second), bob)
    await session.commit()
    [kept] = await _edits(engine, first["id"])
    assert (kept.content, kept.summary, kept.sensitive, kept.replaced_at) == (
        "<p>first</p>",
        "cw",
        True,
        at(2024, 1, 2),
    )

    # The same version again (a redelivery, an Update of something readers do not see) and a
    # late older version are no edits.
    await store_post(session, read_post({**second, "updated": "2024-01-03T00:00:00Z"}), bob)
    await store_post(session, read_post(_note(content="<p>stale</p>", updated="2024-01-01T12:00:00Z")), bob)
    await session.commit()
    assert len(await _edits(engine, first["id"])) == 1

    third = _note(
        content="<p>third</p>", tag=[{"type": "Hashtag", "name": "#new"}], updated="2024-01-04T00:00:00Z"
    )
    await store_post(session, read_post(third), bob)
    await session.commit()
    assert [edit.content for edit in await _edits(engine, first["id"])] == ["<p>first</p>", "<p>second</p>"]


async def test_only_the_author_may_update(session: AsyncSession, engine: AsyncEngine) -> None:
    bob = await _actor(session, "https://remote.example/users/bob")
    mallory = await _actor(session, "https://remote.example/users/mallory")
    await store_post(session, read_post(_note()), bob)
    await session.commit()
    bob_id = bob.id

    takeover = read_post(_note(content="<p>mine now</p>", attributedTo=mallory.uri))
    with pytest.raises(IngestError, match="belongs to another actor"):
        await store_post(session, takeover, mallory)
    await session.rollback()
    row = await _reload(engine, "https://remote.example/notes/1")
    assert (row.author_id, row.content) == (bob_id, "<p>hello</p>")


async def test_refusals(session: AsyncSession) -> None:
    bob = await _actor(session, "https://remote.example/users/bob")
    eve = await _actor(session, "https://other.example/users/eve")
    ada = await _actor(session, "https://uni.example/users/ada", local=True)
    with pytest.raises(IngestError, match="attributed to"):
        await store_post(session, read_post(_note()), eve)  # the document names bob
    with pytest.raises(IngestError, match="not on the host"):
        await store_post(session, read_post(_note(attributedTo=eve.uri)), eve)
    with pytest.raises(IngestError, match="local actor"):
        await store_post(session, read_post(_note(id="https://uni.example/x", attributedTo=ada.uri)), ada)

    deleted = await store_post(session, read_post(_note(id="https://remote.example/notes/gone")), bob)
    deleted.deleted_at = utcnow()
    await session.flush()
    with pytest.raises(IngestError, match="was deleted"):
        await store_post(session, read_post(_note(id="https://remote.example/notes/gone")), bob)

    local_row = Object(
        uri="https://remote.example/notes/local", type="Note", kind="note", author_id=bob.id, local=True
    )
    session.add(local_row)
    await session.flush()
    with pytest.raises(IngestError, match="local object"):
        await store_post(session, read_post(_note(id="https://remote.example/notes/local")), bob)


async def test_a_mastodon_reply_to_a_stored_question_is_an_answer(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    reply = post_of("mastodon-note_1.json")  # unchanged, exactly as Mastodon sends it
    asker = await _actor(session, "https://mamot.fr/users/retiolus")
    felix = await _actor(
        session,
        "https://mastodon.madrid/users/felix",
        followers="https://mastodon.madrid/users/felix/followers",
    )
    question = _note(
        **{"@context": [AS, LEGACY_CONTEXT_IRI]},
        id=reply.in_reply_to,
        attributedTo=asker.uri,
        postKind="question",
        name="Which laptop?",
    )
    await store_post(session, read_post(question), asker)
    await store_post(session, reply, felix)
    await session.commit()

    row = await _reload(engine, reply.uri)
    assert (row.kind, row.in_reply_to_uri, row.visibility) == ("answer", reply.in_reply_to, "unlisted")
    assert (await _reload(engine, reply.in_reply_to or "")).kind == "question"


async def test_replies_to_other_posts_stay_notes_and_early_replies_are_promoted(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    bob = await _actor(session, "https://remote.example/users/bob")
    eve = await _actor(session, "https://other.example/users/eve")
    await store_post(session, read_post(_note()), bob)  # an ordinary note
    to_note = _note(
        id="https://other.example/notes/r1", attributedTo=eve.uri, inReplyTo="https://remote.example/notes/1"
    )
    await store_post(session, read_post(to_note), eve)
    # A reply that arrives before its question…
    early = _note(
        id="https://other.example/notes/r2", attributedTo=eve.uri, inReplyTo="https://remote.example/q"
    )
    await store_post(session, read_post(early), eve)
    await session.commit()
    assert (await _reload(engine, "https://other.example/notes/r2")).kind == "note"
    # …becomes an answer when the question is stored (an AS Question without options).
    await store_post(session, read_post(_note(id="https://remote.example/q", type="Question")), bob)
    await session.commit()
    assert (await _reload(engine, "https://other.example/notes/r2")).kind == "answer"
    assert (await _reload(engine, "https://other.example/notes/r1")).kind == "note"


async def test_visibility_uses_the_authors_real_followers_collection(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    carol = await _actor(
        session, "https://remote.example/people/carol", followers="https://remote.example/f/77"
    )
    post = read_post(_note(attributedTo=carol.uri, to=["https://remote.example/f/77"]))
    assert post.visibility == "direct"  # the reader alone cannot know that collection
    await store_post(session, post, carol)
    await session.commit()
    assert (await _reload(engine, post.uri)).visibility == "followers"


async def test_every_fixture_post_can_be_stored(session: AsyncSession) -> None:
    authors: dict[str, Actor] = {}
    stored = 0
    for name in OBJECT_FILES:
        if name in NON_POSTS:
            continue
        for document in objects_to_read(load(name)):
            post = read_post(document)
            author_uri = post.attributed_to or f"https://{urlsplit(post.uri).netloc}/users/unknown"
            if urlsplit(author_uri).netloc != urlsplit(post.uri).netloc:
                continue  # the same check the inbox makes; none of the fixtures fails it today
            if author_uri not in authors:
                authors[author_uri] = await _actor(session, author_uri)
            async with session.begin_nested():
                await store_post(session, post, authors[author_uri])
            stored += 1
    await session.commit()
    assert stored >= 75


async def test_a_batchs_lookups_are_the_same_statements_whatever_their_size(
    engine: AsyncEngine, backend: str
) -> None:
    # asyncpg prepares every new statement text (a round trip and a plan): an IN list of each
    # length was a new text, prepared again in most batches (issue 15).
    async with session_factory(engine)() as session, session.begin():
        ann = await _actor(session, "https://remote.example/users/ann")
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    runs = []
    for size in (1, 3):
        statements.clear()
        posts = [f"https://remote.example/notes/{size}-{i}" for i in range(size)]
        actors = {ann.uri, *(f"https://remote.example/users/{size}-{i}" for i in range(size - 1))}
        async with session_factory(engine)() as session, session.begin():
            await note_absent_posts(session, posts)
            await note_named(session, set(posts), actors)
            assert session.info[ABSENT_POSTS] == set(posts)
            assert session.info[NAMED_ACTORS] == {uri: ann.id if uri == ann.uri else None for uri in actors}
        runs.append(list(statements))
    if backend == "postgresql":
        assert runs[0] == runs[1]
