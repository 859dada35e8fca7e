"""The full-text index: kept by the database's triggers, plain text only, safe to ask (both backends)."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.storage import migrate
from talentfed.storage import search as index
from talentfed.storage.db import create_engine, session_factory
from talentfed.storage.migrate import MIGRATIONS_DIR
from talentfed.storage.models import Actor, Object, SearchDocument
from tests.support.factories import post_row, remote_actor

HTML = (
    '<p>Robust <strong>speech</strong> models, see <a href="https://example.com/zebrafish" '
    'rel="nofollow noopener noreferrer" class="mention">@<span>kim</span></a> &amp; co &lt;3</p>'
    "<h2>Corpora</h2><ul><li>Swahili</li></ul>"
)


def _actor(name: str, **fields: object) -> Actor:
    return remote_actor(name, "lab.example", **({"discoverable": True, "indexable": True} | fields))


async def _ids(session: AsyncSession, words: str) -> set[int]:
    """Document ids matching `words`, straight from the index."""
    dialect = session.get_bind().dialect.name
    matches = index.matches(dialect, index.parse(words))
    return set(await session.scalars(select(matches.c.document_id)))


async def _document(session: AsyncSession, **source: int) -> SearchDocument | None:
    column = SearchDocument.object_id if "object_id" in source else SearchDocument.actor_id
    return await session.scalar(select(SearchDocument).where(column == next(iter(source.values()))))


async def test_the_triggers_and_the_index_exist_at_head(session: AsyncSession) -> None:
    # A migration that rebuilds actors or objects (SQLite batch mode) would drop the triggers.
    if session.get_bind().dialect.name == "sqlite":
        names = set(await session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        expected = {
            f"search_{table}_{event}"
            for table in ("objects", "actors")
            for event in ("insert", "update", "delete")
        }
        expected |= {f"search_documents_{event}" for event in ("insert", "update", "delete")}
        tables = set(await session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
        assert {"search_fts", "search_fts_cjk"} <= tables
    else:
        names = set(await session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
        expected = {"search_objects", "search_actors"}
        indexes = set(await session.scalars(text("SELECT indexname FROM pg_indexes")))
        assert "search_fts_vector" in indexes
    assert expected <= names


async def test_plain_text_is_indexed_not_markup(session: AsyncSession) -> None:
    kim = _actor("kim", display_name="Kim Lee", summary="<p>Acoustic <em>models</em></p>", skills=["kaldi"])
    session.add(kim)
    await session.flush()
    post = post_row(
        kim,
        "asr",
        "article",
        name="Call",
        content=HTML,
        summary="<p>Short &quot;lead&quot;</p>",
        tags=["nlp"],
    )
    session.add(post)
    await session.flush()
    document = await _document(session, object_id=post.id)
    assert document is not None
    assert " ".join(document.body.split()) == "Robust speech models, see @ kim & co <3 Corpora Swahili"
    assert document.lead == 'Short "lead"' and document.title == "Call" and document.skills == "nlp"
    person = await _document(session, actor_id=kim.id)
    assert person is not None and person.title == "Kim Lee kim" and person.skills == "kaldi"
    assert " ".join(person.body.split()) == "Acoustic models"
    assert await _ids(session, "speech swahili") == {document.id}
    assert await _ids(session, "acoustic") == {person.id}
    for markup in [
        "href",
        "zebrafish",
        "nofollow",
        "noreferrer",
        "class",
        "mention",
        "strong",
        "span",
        "li",
        "amp",
    ]:
        assert await _ids(session, f'"{markup}"') == set(), markup


async def test_the_index_follows_every_write(session: AsyncSession) -> None:
    kim = _actor("kim", headline="Phonetics")
    session.add(kim)
    await session.flush()
    post = post_row(kim, "p", "article", name="Tonal languages", content="<p>Yoruba</p>")
    session.add(post)
    await session.flush()
    assert len(await _ids(session, "yoruba")) == 1
    # The ORM, then a bulk UPDATE the ORM does not track, then raw SQL: all reach the index.
    post.content = "<p>Igbo</p>"
    await session.flush()
    assert await _ids(session, "yoruba") == set() and len(await _ids(session, "igbo")) == 1
    await session.execute(update(Object).where(Object.id == post.id).values(name="Click consonants"))
    assert await _ids(session, "tonal") == set() and len(await _ids(session, "click consonants")) == 1
    await session.execute(text("UPDATE actors SET headline = 'Syntax' WHERE id = :id"), {"id": kim.id})
    assert await _ids(session, "phonetics") == set() and len(await _ids(session, "syntax")) == 1
    # Leaving the searchable set: deleted, not public, or a kind that is not searched.
    await session.execute(update(Object).where(Object.id == post.id).values(visibility="followers"))
    assert await _ids(session, "igbo") == set()
    await session.execute(update(Object).where(Object.id == post.id).values(visibility="public"))
    assert len(await _ids(session, "igbo")) == 1
    await session.execute(update(Object).where(Object.id == post.id).values(kind="note"))
    assert await _ids(session, "igbo") == set()
    await session.execute(update(Object).where(Object.id == post.id).values(kind="article"))
    await session.execute(delete(Object).where(Object.id == post.id))
    assert await _ids(session, "igbo") == set()
    await session.execute(delete(Actor).where(Actor.id == kim.id))
    assert await _ids(session, "syntax") == set()
    assert await session.scalar(select(SearchDocument.id)) is None


async def test_organizations_are_not_indexed(session: AsyncSession) -> None:
    session.add(_actor("uni", type="Organization", display_name="Polytechnic"))
    await session.flush()
    assert await _ids(session, "polytechnic") == set()


HOSTILE = [
    '"foo OR (',
    "NEAR*",
    "NEAR(a b)",
    "a AND",
    "*",
    "-foo",
    "title:x",
    "^foo",
    "'",
    "\\",
    "):* & !",
    "foo:*A",
    '""""',
    "²",
    "🙂",
    "\x00",
    "x'y\\z",
    "'; DROP TABLE objects; --",
    "<-> | &",
    "a" * 60,
]


async def test_hostile_text_never_reaches_the_database_as_syntax(session: AsyncSession) -> None:
    session.add(_actor("kim", display_name="Foo Near"))
    await session.flush()
    for hostile in HOSTILE:
        if index.parse(hostile):
            await _ids(session, hostile)  # no error, whatever it finds
    assert len(await _ids(session, '"foo OR (')) == 0  # "or" is a word here, and kim has none
    assert len(await _ids(session, "NEAR*")) == 1


def test_parse_keeps_words_only() -> None:
    assert index.parse('"foo OR (') == (index.Phrase(("foo",)), index.Phrase(("or",)))
    assert index.parse("NEAR*") == (index.Phrase(("near",), prefix=True),)
    assert index.parse('"Speech Recognition" node.js') == (
        index.Phrase(("speech", "recognition")),
        index.Phrase(("node", "js")),
    )
    assert index.parse("Café ab") == (index.Phrase(("cafe",)), index.Phrase(("ab",)))
    assert index.parse("((( *** ") == ()


def test_the_fold_table_is_the_migrations() -> None:
    path = MIGRATIONS_DIR / "versions" / "0006_search_index.py"
    spec = importlib.util.spec_from_file_location("search_index_migration", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.FOLD_FROM, migration.FOLD_TO) == (index.FOLD_FROM, index.FOLD_TO)
    assert migration.CJK_RANGES == index.CJK_RANGES
    assert migration.SEARCHABLE_KINDS == index.SEARCHABLE_KINDS


def test_snippet_is_around_the_first_word_found() -> None:
    body = "word " * 100 + "the Kaldi recipe " + "more " * 100
    excerpt = index.snippet([None, body], ("kaldi",))
    assert "Kaldi recipe" in excerpt and excerpt.startswith("…") and excerpt.endswith("…")
    assert len(excerpt) <= 182
    assert index.snippet(["Short lead", body], ()) == "Short lead"
    assert index.snippet(["", "Crème brûlée"], ("creme",)) == "Crème brûlée"


async def _plan(session: AsyncSession, explain: str, statement) -> str:
    connection = await session.connection()
    compiled = statement.compile(connection)
    parameters = tuple(compiled.params[name] for name in compiled.positiontup or ())
    rows = await connection.exec_driver_sql(f"{explain} {compiled}", parameters)
    return " ".join(str(row[-1]) for row in rows)


async def test_the_query_uses_the_index_not_a_scan(session: AsyncSession) -> None:
    dialect = session.get_bind().dialect.name
    matches = index.matches(dialect, index.parse("speech recognition"))
    statement = select(matches.c.document_id, matches.c.score)
    if dialect == "sqlite":
        plan = await _plan(session, "EXPLAIN QUERY PLAN", statement)
        assert "SCAN search_fts VIRTUAL TABLE INDEX" in plan, plan
    else:
        await session.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table: force the choice
        plan = await _plan(session, "EXPLAIN", statement)
        assert "Bitmap Index Scan on search_fts_vector" in plan, plan


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
async def test_the_migration_indexes_existing_rows_and_goes_back(fresh_database, backend_name: str) -> None:
    engine = create_engine(fresh_database(backend_name))  # its own database: the schema changes
    try:
        # Rows written at head (the models are head's), then taken back to before the index
        # existed: the upgrade must index the rows it finds.
        async with session_factory(engine)() as session, session.begin():
            kim = _actor("kim", summary="<p>Tonal <em>languages</em></p>")
            session.add(kim)
            await session.flush()
            session.add(
                post_row(
                    kim,
                    "p",
                    "article",
                    name="Yoruba tones",
                    content='<p><a href="https://x.example/">link</a></p>',
                )
            )
            session.add(post_row(kim, "n", "note", name="Yoruba note"))
        await migrate.downgrade(engine, "0005")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert not [name for name in tables if name.startswith(("search_", index.INDEX_PREFIX))]
        await migrate.upgrade(engine)
        async with session_factory(engine)() as session:
            assert len(await _ids(session, "tonal")) == 1
            assert len(await _ids(session, "yoruba")) == 1  # the note is not searchable
            assert len(await _ids(session, "link")) == 1 and await _ids(session, "href") == set()
        await migrate.downgrade(engine, "0005")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        assert not [name for name in tables if name.startswith(("search_", index.INDEX_PREFIX))]
        async with session_factory(engine)() as session, session.begin():  # no trigger left behind
            await session.execute(update(Object).values(name="Changed"))
            await session.execute(delete(Object))
            await session.execute(delete(Actor))
    finally:
        await engine.dispose()
