"""SQL that SQLite and PostgreSQL write differently, each piece once: an INSERT that can say
what to do on a conflict (and the common case, insert or ignore), a test of membership in a
list of values, and a time as whole seconds since the epoch."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, TextClause, any_, bindparam, cast, extract, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_for(session: AsyncSession) -> Any:
    """The dialect's `insert`, which has `on_conflict_do_nothing` and `on_conflict_do_update`
    (written the same way on both backends)."""
    return postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert


def insert_or_ignore(
    session: AsyncSession,
    model: Any,
    unique: list[str],
    *,
    where: ColumnElement[bool] | TextClause | None = None,
    **values: Any,
) -> Any:
    """INSERT of one row that does nothing when a row with the same `unique` columns exists
    (ON CONFLICT DO NOTHING): of two writers at once, one inserts and the other waits for it,
    then inserts nothing. `where` is the predicate of a partial unique index (both back-ends
    need it to choose that index). Add `.returning(...)` to learn which one won."""
    return (
        insert_for(session)(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique, index_where=where)
    )


def among(session: AsyncSession, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN (values)`, which PostgreSQL is sent as `column = ANY($1)` with one array: the
    same statement whatever the number of values. asyncpg prepares each new statement text (a
    round trip, and a plan on the server) and keeps 100 per connection, so an IN list, a new text
    for every length, was prepared again in most of a group commit's batches."""
    test: ColumnElement[bool]
    if dialect_of(session) == "postgresql":
        test = column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    else:
        test = column.in_(values)
    return test


def epoch_seconds(dialect: str, moment: Any) -> ColumnElement[int]:
    """A UTC datetime column as whole seconds since 1970, rounded down, as Python's
    `int(moment.timestamp())` counts them (PostgreSQL's cast would round to the nearest)."""
    if dialect == "sqlite":
        # Stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'. strftime reads it as UTC but keeps
        # milliseconds only, rounding 11:59:59.9999 up to noon: it is given whole seconds.
        return cast(func.strftime("%s", func.substr(moment, 1, 19)), Integer)
    return cast(func.floor(extract("epoch", moment)), BigInteger)
