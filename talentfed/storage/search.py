"""The full-text index of people and posts, and how to ask it — on SQLite and on PostgreSQL.

What is indexed: one row of `search_documents` (model `SearchDocument`) per searchable record,
with its plain text in four weighted columns — `title` (a person's name and username, a post's
title), `skills` (skills, and a post's hashtags), `lead` (a person's headline and department, a
post's summary) and `body` (a person's bio, a post's text). Searchable records are actors of
type Person and public, not deleted articles, questions and project calls. Who may *appear* in
results (opt-outs, blocked domains) is decided at query time by `talentfed.domain.search`.

How it stays in sync: database triggers on `actors` and `objects` (migration 0006) write
`search_documents` on every INSERT, UPDATE and DELETE, whoever issues it (the ORM, a bulk
insert of the inbox, raw SQL, another process). The plain text is a stored column, and the
triggers are the one place that fills it; they turn HTML into text with built-in SQL functions
only (json_quote/json_each on SQLite, regexp_replace on PostgreSQL), so no connection has to
register a Python function. Markup — tag names, `href`, `class`, URLs in attributes — never
reaches the index. Python code never writes `search_documents`.

The index itself:

- SQLite: FTS5. `search_fts` (unicode61 tokenizer, diacritics folded) over every document,
  ranked with bm25; `search_fts_cjk` (trigram tokenizer) over the documents that contain
  Chinese, Japanese or Korean text. Both take `search_documents` as external content, so the
  text is stored once, and triggers on `search_documents` keep them.
- PostgreSQL: a GIN index, `search_fts_vector`, on the immutable function
  talentfed_search_vector(title, skills, lead, body) — to_tsvector('simple') of the four
  columns with weights A-D — ranked with ts_rank. The function turns ASCII punctuation into
  spaces and folds accents on Latin letters (what FTS5 does on SQLite), and makes every CJK
  character a word of its own.

Queries (`parse`): the user's text is reduced to words — runs of letters and digits, lowercased,
accents folded — so no character of it is ever an operator of FTS5 MATCH or to_tsquery: `OR`,
`NEAR`, `*`, `(` and quotes are words or nothing. Words in double quotes, or joined by
punctuation (`node.js`, `low-resource`), must appear next to each other; all phrases must
match; the last word, if typed without quotes and at least three characters long, also
matches as the start of a longer word.

Chinese, Japanese and Korean (CJK) words, which unicode61 and 'simple' do not split:

- PostgreSQL: each CJK character is indexed as a word, and a CJK word of the query is looked
  for as a phrase of its characters, so any word of any length is found where it occurs.
- SQLite: a CJK word of three or more characters is looked for as a substring with the
  trigram index. Limitation: a word of one or two characters (trigrams need three) only
  matches at the start of a run of CJK text (unicode61 treats a run as one word).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    SQLColumnExpression,
    cast,
    column,
    exists,
    func,
    literal,
    literal_column,
    select,
    table,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB, REGCONFIG
from sqlalchemy.sql.expression import ColumnClause, ColumnElement, Subquery, TableClause

from talentfed.storage.models import SearchDocument

# Which records have a search document (kept in step with migration 0006's triggers).
SEARCHABLE_KINDS = ("article", "question", "project")
PERSON_TYPE = "Person"
# The full-text index's own objects are named so: FTS5 tables and their shadow tables (SQLite),
# the GIN index (PostgreSQL). They are indexes, not models; the migration test leaves them out.
INDEX_PREFIX = "search_fts"


def is_model_object(name: str | None, _type: str, _parents: object) -> bool:
    """For Alembic's comparison: the full-text index's tables and GIN index are not models."""
    return not (name or "").startswith(INDEX_PREFIX)


# Hiragana and Katakana, CJK Extension A, CJK Unified Ideographs, Hangul, CJK Compatibility.
CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))
_CJK_CLASS = "".join(f"{chr(low)}-{chr(high)}" for low, high in CJK_RANGES)
_CJK = re.compile(f"[{_CJK_CLASS}]")
_CJK_OR_RUN = re.compile(f"[{_CJK_CLASS}]|[^{_CJK_CLASS}]+")
_WORD = re.compile(r"[^\W_]+")
_QUOTED_OR_BARE = re.compile(r'"([^"]*)"|([^\s"]+)')

# Column weights: a word in the title counts most, then skills, then the lead, then the body.
BM25_WEIGHTS = (10.0, 5.0, 2.0, 1.0)  # FTS5: one weight per column, in column order
TS_RANK_NORMALIZATION = 1  # ts_rank: divide by 1 + log(document length)
MIN_PREFIX = 3  # the last word matches as a prefix from this many characters
TRIGRAM = 3


def _fold_table() -> tuple[str, str]:
    """Latin letters with diacritics (U+00C0-U+024F) → their base letter, as PostgreSQL folds them."""
    source = target = ""
    for code in range(0xC0, 0x250):
        letter = chr(code)
        parts = unicodedata.normalize("NFKD", letter)
        base, marks = parts[0], parts[1:]
        if marks and base.isascii() and base.isalpha() and all(map(unicodedata.combining, marks)):
            source += letter
            target += base
    return source, target


FOLD_FROM, FOLD_TO = _fold_table()
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def fold(text: str) -> str:
    """Accents off the Latin letters the index folds; one character for one, so offsets hold."""
    return text.translate(_FOLD)


def has_cjk(word: str) -> bool:
    return _CJK.search(word) is not None


@dataclass(frozen=True)
class Phrase:
    """Words that must appear in this order, next to each other; `prefix`: the last may go on."""

    words: tuple[str, ...]
    prefix: bool = False


def parse(text: str) -> tuple[Phrase, ...]:
    """The user's text as phrases of plain words (see the module's docstring); () if it has none."""
    phrases: list[Phrase] = []
    last_bare = False
    for match in _QUOTED_OR_BARE.finditer(text):
        quoted, bare = match.group(1), match.group(2)
        words = tuple(_WORD.findall(fold(quoted if quoted is not None else bare).lower()))
        if words:
            phrases.append(Phrase(words))
            last_bare = bare is not None
    if phrases and last_bare:
        last = phrases[-1].words[-1]
        if len(last) >= MIN_PREFIX and not has_cjk(last):
            phrases[-1] = Phrase(phrases[-1].words, prefix=True)
    return tuple(phrases)


def query_words(phrases: Sequence[Phrase]) -> tuple[str, ...]:
    return tuple(word for phrase in phrases for word in phrase.words)


# --- SQLite: FTS5 ----------------------------------------------------------------------------


def _fts5_string(words: Sequence[str], prefix: bool = False) -> str:
    # Words hold letters and digits only; doubling quotes keeps that safe even if it changes.
    return '"' + " ".join(word.replace('"', '""') for word in words) + '"' + ("*" if prefix else "")


def fts5_queries(phrases: Sequence[Phrase]) -> tuple[str | None, str | None]:
    """(query for search_fts, query for search_fts_cjk); None where there is nothing to ask."""
    words_query: list[str] = []
    cjk_query: list[str] = []
    for phrase in phrases:
        if not any(has_cjk(word) for word in phrase.words):
            words_query.append(_fts5_string(phrase.words, phrase.prefix))
            continue
        for word in phrase.words:  # with CJK words in it, each word is asked for on its own
            if not has_cjk(word):
                words_query.append(_fts5_string([word]))
            elif len(word) >= TRIGRAM:
                cjk_query.append(_fts5_string([word]))
            else:
                words_query.append(_fts5_string([word], prefix=True))
    return (" AND ".join(words_query) or None, " AND ".join(cjk_query) or None)


def _fts5_table(name: str) -> TableClause:
    return table(name, column("rowid"), column(name))


def _sqlite_matches(phrases: Sequence[Phrase]) -> Subquery:
    words_query, cjk_query = fts5_queries(phrases)
    main = _fts5_table("search_fts" if words_query is not None else "search_fts_cjk")
    hidden = main.c[main.name]
    weights: list[ColumnClause[Any]] = [literal_column(repr(weight)) for weight in BM25_WEIGHTS]
    query = select(
        main.c.rowid.label("document_id"), type_coerce(-func.bm25(hidden, *weights), Float).label("score")
    ).where(hidden.op("MATCH")(words_query if words_query is not None else cjk_query))
    if words_query is not None and cjk_query is not None:
        cjk = _fts5_table("search_fts_cjk")
        query = query.where(
            main.c.rowid.in_(select(cjk.c.rowid).where(cjk.c.search_fts_cjk.op("MATCH")(cjk_query)))
        )
    return query.subquery("matches")


# --- PostgreSQL: tsvector --------------------------------------------------------------------


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery(phrases: Sequence[Phrase]) -> str:
    """to_tsquery text: phrases joined by &, words of a phrase by <->, CJK split into characters."""
    parts = []
    for phrase in phrases:
        lexemes = [_lexeme(piece) for word in phrase.words for piece in _CJK_OR_RUN.findall(word)]
        if phrase.prefix:
            lexemes[-1] += ":*"
        parts.append(" <-> ".join(lexemes) if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def document_vector() -> ColumnElement[Any]:
    """The expression the GIN index is built on; a query must use exactly this to use the index."""
    d = SearchDocument.__table__.c
    return func.talentfed_search_vector(d.title, d.skills, d.lead, d.body)


def _postgresql_matches(phrases: Sequence[Phrase]) -> Subquery:
    query = func.to_tsquery(cast("simple", REGCONFIG), tsquery(phrases))
    vector = document_vector()
    return (
        select(
            SearchDocument.id.label("document_id"),
            type_coerce(func.ts_rank(vector, query, TS_RANK_NORMALIZATION), Float).label("score"),
        )
        .where(vector.op("@@")(query))
        .subquery("matches")
    )


# --- both ------------------------------------------------------------------------------------


def matches(dialect: str, phrases: Sequence[Phrase]) -> Subquery:
    """(document_id, score) of the documents that match every phrase; a higher score is better."""
    if not phrases:
        raise ValueError("matches: no words to look for")
    return _sqlite_matches(phrases) if dialect == "sqlite" else _postgresql_matches(phrases)


def json_list_contains(dialect: str, json_list: SQLColumnExpression[Any], value: str) -> ColumnElement[bool]:
    """Whether a JSON list column (skills, tags) holds `value` exactly."""
    if dialect == "sqlite":
        items = func.json_each(json_list).table_valued("value")
        return exists(select(literal_column("1")).select_from(items).where(items.c.value == value))
    return json_list.op("@>", is_comparison=True)(literal([value], JSONB))


def snippet(texts: Sequence[str | None], words: Sequence[str], width: int = 180) -> str:
    """A short plain-text excerpt: around the first query word found, else the first text's start."""
    cleaned = [" ".join((text or "").split()) for text in texts]
    pattern = (
        re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)), re.IGNORECASE)
        if words
        else None
    )
    for text in cleaned:
        found = pattern.search(fold(text)) if pattern and text else None
        if found:
            return _window(text, max(0, found.start() - width // 3), width)
    return next((_window(text, 0, width) for text in cleaned if text), "")


def _window(text: str, start: int, width: int) -> str:
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + width // 3 else start
    end = start + width
    if end >= len(text):
        excerpt = text[start:]
    else:
        cut = text.rfind(" ", start, end)
        excerpt = text[start : cut if cut > start else end] + "…"
    return ("…" + excerpt) if start > 0 else excerpt
