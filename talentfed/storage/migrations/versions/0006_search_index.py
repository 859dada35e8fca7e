"""search index: search_documents, kept by triggers; FTS5 (SQLite) or a GIN tsvector index (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 10:00:00

`search_documents` holds the plain text of every searchable person (actors of type Person)
and post (public, not deleted articles, questions and project calls). Only the triggers
created here write it, so no code path can forget to: an INSERT, UPDATE or DELETE of an
actor or an object, whoever issues it, updates its row in the same statement.

HTML (`objects.content`, `objects.summary`, `actors.summary` are sanitised HTML) becomes plain
text inside the database, with built-in functions only, so no connection has to register a
Python function:

- SQLite: the HTML is quoted as a JSON string (json_quote escapes quotes, backslashes and
  control characters), every `<` and `>` is turned into a string boundary, and json_each
  yields text and tags as separate elements; the tags are left out, and the entities that a
  sanitiser writes (&amp; &lt; &gt; &quot; &#39; &nbsp;) are decoded.
- PostgreSQL: regexp_replace removes `<...>`, then the same entities are decoded.

The index over search_documents (named search_fts*: indexes, not models, which the migration
test leaves out):

- SQLite: `search_fts`, an FTS5 table (unicode61, diacritics folded) with search_documents as
  its external content, and `search_fts_cjk`, an FTS5 trigram table over the documents that
  contain Chinese, Japanese or Korean text (unicode61 does not split those words); both are
  kept by triggers on search_documents.
- PostgreSQL: a GIN index, `search_fts_vector`, on
  talentfed_search_vector(title, skills, lead, body), an immutable
  function: ASCII punctuation becomes a space (as FTS5's tokenizer does), accents on Latin
  letters are folded, every CJK character becomes a word of its own (queries look for them
  as phrases), then to_tsvector('simple') with weights A-D for the four columns.

Keep in step with talentfed/storage/search.py (CJK ranges, accent folding, searchable kinds).
A later migration that rebuilds `actors` or `objects` on SQLite (batch_alter_table with
recreate) drops their triggers and must create them again; tests/storage/test_search.py
checks that they exist at head.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHABLE_KINDS = ("article", "question", "project")
PERSON_TYPE = "Person"
COLUMNS = ("title", "skills", "lead", "body")
# Hiragana and Katakana, CJK Extension A, CJK Unified Ideographs, Hangul syllables, CJK
# Compatibility Ideographs: text in these scripts is not split into words by spaces.
CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))
# Latin letters with diacritics (U+00C0-U+024F) and their base letters: what PostgreSQL folds.
FOLD_FROM = (
    "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģ"
    "ĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔ"
    "ǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
)
FOLD_TO = (
    "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGg"
    "HhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUu"
    "UuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy"
)
ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "''"), ("&nbsp;", " "), ("&amp;", "&"))

OBJECT_COLUMNS = ("kind", "name", "summary", "content", "skills", "tags", "visibility", "deleted_at")
ACTOR_COLUMNS = ("type", "username", "display_name", "headline", "department", "summary", "skills")


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("lead", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "(actor_id IS NULL) <> (object_id IS NULL)", name=op.f("ck_search_documents_one_source")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actors.id"], name=op.f("fk_search_documents_actor_id_actors"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["object_id"], ["objects.id"], name=op.f("fk_search_documents_object_id_objects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("actor_id", name=op.f("uq_search_documents_actor_id")),
        sa.UniqueConstraint("object_id", name=op.f("uq_search_documents_object_id")),
    )
    statements = _sqlite_upgrade() if op.get_bind().dialect.name == "sqlite" else _postgresql_upgrade()
    for statement in statements:
        op.get_bind().exec_driver_sql(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        statements = [
            *(f"DROP TRIGGER IF EXISTS search_objects_{event}" for event in ("insert", "update", "delete")),
            *(f"DROP TRIGGER IF EXISTS search_actors_{event}" for event in ("insert", "update", "delete")),
            "DROP TABLE IF EXISTS search_fts",
            "DROP TABLE IF EXISTS search_fts_cjk",
        ]
    else:
        statements = [
            "DROP TRIGGER IF EXISTS search_objects ON objects",
            "DROP TRIGGER IF EXISTS search_actors ON actors",
            "DROP INDEX IF EXISTS search_fts_vector",
        ]
    for statement in statements:
        op.get_bind().exec_driver_sql(statement)
    op.drop_table("search_documents")  # its own triggers (SQLite) go with it
    if op.get_bind().dialect.name != "sqlite":
        for function in (
            "talentfed_search_objects()",
            "talentfed_search_actors()",
            "talentfed_search_vector(text, text, text, text)",
            "talentfed_search_plain(text)",
            "talentfed_search_list(jsonb)",
        ):
            op.get_bind().exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def _object_condition(row: str) -> str:
    return (
        f"{row}.kind IN ({_quoted(SEARCHABLE_KINDS)}) AND {row}.visibility = 'public'"
        f" AND {row}.deleted_at IS NULL"
    )


def _decode_entities(expression: str) -> str:
    for entity, character in ENTITIES:
        expression = f"replace({expression}, '{entity}', '{character}')"
    return expression


# --- SQLite ----------------------------------------------------------------------------------


def _sqlite_plain(html: str) -> str:
    """Sanitised HTML → its text, tags left out (see the module's docstring)."""
    parts = f"""'[' || replace(replace(json_quote(coalesce({html}, '')), '<', '","<'), '>', '>","') || ']'"""
    text = (
        "(SELECT CASE WHEN json_valid(parts) THEN coalesce((SELECT group_concat(value, ' ') FROM json_each(parts)"
        f" WHERE value NOT LIKE '<%' AND value <> ''), '') ELSE '' END FROM (SELECT {parts} AS parts))"
    )
    return f"trim({_decode_entities(text)})"


def _sqlite_list(json_list: str) -> str:
    """A JSON list of names → 'a, b, c'."""
    return (
        "coalesce((SELECT group_concat(value, ', ') FROM json_each("
        f"CASE WHEN json_valid({json_list}) THEN {json_list} ELSE '[]' END) WHERE type = 'text'), '')"
    )


def _sqlite_object_document(row: str) -> str:
    skills = f"trim({_sqlite_list(f'{row}.skills')} || ', ' || {_sqlite_list(f'{row}.tags')}, ', ')"
    return (
        f"{row}.id, coalesce({row}.name, ''), {skills},"
        f" {_sqlite_plain(f'{row}.summary')}, {_sqlite_plain(f'{row}.content')}"
    )


def _sqlite_actor_document(row: str) -> str:
    return (
        f"{row}.id, trim(coalesce({row}.display_name, '') || ' ' || {row}.username),"
        f" {_sqlite_list(f'{row}.skills')},"
        f" trim(coalesce({row}.headline, '') || ' ' || coalesce({row}.department, '')),"
        f" {_sqlite_plain(f'{row}.summary')}"
    )


def _sqlite_cjk(row: str) -> str:
    ranges = "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES)
    text = " || ' ' || ".join(f"{row}.{column}" for column in COLUMNS)
    return f"({text}) GLOB '*[{ranges}]*'"


def _sqlite_upgrade() -> list[str]:
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"NEW.{column}" for column in COLUMNS)
    old = ", ".join(f"OLD.{column}" for column in COLUMNS)
    index_new = (
        f"INSERT INTO search_fts(rowid, {columns}) VALUES (NEW.id, {new});"
        f" INSERT INTO search_fts_cjk(rowid, {columns}) SELECT NEW.id, {new} WHERE {_sqlite_cjk('NEW')};"
    )
    unindex_old = (
        f"INSERT INTO search_fts(search_fts, rowid, {columns}) VALUES ('delete', OLD.id, {old});"
        f" INSERT INTO search_fts_cjk(search_fts_cjk, rowid, {columns})"
        f" SELECT 'delete', OLD.id, {old} WHERE {_sqlite_cjk('OLD')};"
    )
    document_columns = f"(object_id, {columns})"
    insert_object = (
        f"INSERT INTO search_documents {document_columns}"
        f" SELECT {_sqlite_object_document('NEW')} WHERE {_object_condition('NEW')};"
    )
    insert_actor = (
        f"INSERT INTO search_documents (actor_id, {columns})"
        f" SELECT {_sqlite_actor_document('NEW')} WHERE NEW.type = '{PERSON_TYPE}';"
    )
    return [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({columns}, content='search_documents',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE VIRTUAL TABLE search_fts_cjk USING fts5({columns}, content='search_documents',"
        " content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER search_documents_insert AFTER INSERT ON search_documents BEGIN {index_new} END",
        f"CREATE TRIGGER search_documents_delete AFTER DELETE ON search_documents BEGIN {unindex_old} END",
        f"CREATE TRIGGER search_documents_update AFTER UPDATE ON search_documents BEGIN {unindex_old} {index_new} END",
        f"CREATE TRIGGER search_objects_insert AFTER INSERT ON objects BEGIN {insert_object} END",
        f"CREATE TRIGGER search_objects_update AFTER UPDATE OF {', '.join(OBJECT_COLUMNS)} ON objects BEGIN"
        f" DELETE FROM search_documents WHERE object_id = OLD.id; {insert_object} END",
        "CREATE TRIGGER search_objects_delete AFTER DELETE ON objects BEGIN"
        " DELETE FROM search_documents WHERE object_id = OLD.id; END",
        f"CREATE TRIGGER search_actors_insert AFTER INSERT ON actors BEGIN {insert_actor} END",
        f"CREATE TRIGGER search_actors_update AFTER UPDATE OF {', '.join(ACTOR_COLUMNS)} ON actors BEGIN"
        f" DELETE FROM search_documents WHERE actor_id = OLD.id; {insert_actor} END",
        "CREATE TRIGGER search_actors_delete AFTER DELETE ON actors BEGIN"
        " DELETE FROM search_documents WHERE actor_id = OLD.id; END",
        # The rows that exist already (the triggers on search_documents index them).
        f"INSERT INTO search_documents {document_columns} SELECT {_sqlite_object_document('objects')}"
        f" FROM objects WHERE {_object_condition('objects')}",
        f"INSERT INTO search_documents (actor_id, {columns}) SELECT {_sqlite_actor_document('actors')}"
        f" FROM actors WHERE actors.type = '{PERSON_TYPE}'",
    ]


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_words(text: str) -> str:
    """Text → the words to index: accents folded, punctuation a space, each CJK character a word."""
    cjk = "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in CJK_RANGES)
    folded = f"translate(coalesce({text}, ''), '{FOLD_FROM}', '{FOLD_TO}')"
    spaced = f"regexp_replace({folded}, '[!-/:-@\\[-`{{-~\\u00a0]+', ' ', 'g')"
    return f"regexp_replace({spaced}, '([{cjk}])', ' \\1 ', 'g')"


def _postgresql_upgrade() -> list[str]:
    columns = ", ".join(COLUMNS)
    weighted = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, {_pg_words(f'${n}')}), '{weight}')"
        for n, weight in ((1, "A"), (2, "B"), (3, "C"), (4, "D"))
    )
    plain = _decode_entities("regexp_replace(coalesce(html, ''), '<[^>]*>', ' ', 'g')")
    object_values = (
        "coalesce({row}.name, ''),"
        " btrim(talentfed_search_list({row}.skills) || ', ' || talentfed_search_list({row}.tags), ', '),"
        " talentfed_search_plain({row}.summary), talentfed_search_plain({row}.content)"
    )
    actor_values = (
        "btrim(coalesce({row}.display_name, '') || ' ' || {row}.username),"
        " talentfed_search_list({row}.skills),"
        " btrim(coalesce({row}.headline, '') || ' ' || coalesce({row}.department, '')),"
        " talentfed_search_plain({row}.summary)"
    )
    return [
        "CREATE FUNCTION talentfed_search_plain(html text) RETURNS text"
        f" LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT btrim({plain}) $$",
        "CREATE FUNCTION talentfed_search_list(items jsonb) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE"
        " AS $$ SELECT coalesce(CASE WHEN jsonb_typeof(items) = 'array' THEN"
        " (SELECT string_agg(value, ', ') FROM jsonb_array_elements_text(items)) END, '') $$",
        # Built-in functions only: an index expression must not depend on the search_path.
        "CREATE FUNCTION talentfed_search_vector(title text, skills text, lead text, body text)"
        f" RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {weighted} $$",
        f"CREATE INDEX search_fts_vector ON search_documents USING gin"
        f" (talentfed_search_vector({columns}))",
        f"""CREATE FUNCTION talentfed_search_objects() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM search_documents WHERE object_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND {_object_condition("NEW")} THEN
        INSERT INTO search_documents (object_id, {columns})
        VALUES (NEW.id, {object_values.format(row="NEW")});
    END IF;
    RETURN NULL;
END $$""",
        f"""CREATE FUNCTION talentfed_search_actors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM search_documents WHERE actor_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.type = '{PERSON_TYPE}' THEN
        INSERT INTO search_documents (actor_id, {columns})
        VALUES (NEW.id, {actor_values.format(row="NEW")});
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER search_objects AFTER INSERT OR DELETE OR UPDATE OF {', '.join(OBJECT_COLUMNS)}"
        " ON objects FOR EACH ROW EXECUTE FUNCTION talentfed_search_objects()",
        f"CREATE TRIGGER search_actors AFTER INSERT OR DELETE OR UPDATE OF {', '.join(ACTOR_COLUMNS)}"
        " ON actors FOR EACH ROW EXECUTE FUNCTION talentfed_search_actors()",
        f"INSERT INTO search_documents (object_id, {columns}) SELECT objects.id,"
        f" {object_values.format(row='objects')} FROM objects WHERE {_object_condition('objects')}",
        f"INSERT INTO search_documents (actor_id, {columns}) SELECT actors.id,"
        f" {actor_values.format(row='actors')} FROM actors WHERE actors.type = '{PERSON_TYPE}'",
    ]
