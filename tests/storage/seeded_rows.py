"""Rows written into a database at an older schema revision, and the values they must still hold.

Each column is written and read with the type the head models give it (UTCDateTime, JSON, …),
so a value reads back as the application would read it. Tables are named by string: the rows
are written with SQL of the revision at hand, never through the models, which describe head.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from talentfed.storage.models import Base


def _typed(table: str, columns: set[str]) -> sa.TableClause:
    """`table` with `columns` only, each typed as in the head models (untyped: a column a later
    revision renamed or dropped)."""
    head = Base.metadata.tables[table]
    return sa.table(
        table,
        *(
            sa.column(name, head.c[name].type if name in head.c else sa.types.NULLTYPE)
            for name in sorted(columns)
        ),
    )


class SeededRows:
    """What was written, keyed by (table, primary key), with the values each row must hold."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, int], dict[str, Any]] = {}
        self.removed: set[tuple[str, int]] = set()  # rows a migration deletes (duplicates)
        self._keys: dict[str, str] = {}

    async def add(
        self, connection: AsyncConnection, table: str, *, key_column: str = "id", **values: Any
    ) -> int:
        """Insert one row; its primary key (given in `values`, or drawn by the database)."""
        key = self._keys[table] = key_column
        typed = _typed(table, {*values, key})
        if key in values:
            await connection.execute(sa.insert(typed).values(**values))
            row_key = values[key]
        else:
            row_key = (
                await connection.execute(sa.insert(typed).values(**values).returning(typed.c[key]))
            ).scalar_one()
        self.expected[(table, row_key)] = {name: value for name, value in values.items() if name != key}
        return row_key

    async def update(self, connection: AsyncConnection, table: str, row_key: int, **values: Any) -> None:
        """Change a row written earlier (a column a later revision added)."""
        key = self._keys[table]
        typed = _typed(table, {*values, key})
        await connection.execute(sa.update(typed).where(typed.c[key] == row_key).values(**values))
        self.expect(table, row_key, **values)

    def expect(self, table: str, row_key: int, **values: Any) -> None:
        """What a migration changed in a row (a backfill)."""
        self.expected[(table, row_key)].update(values)

    def expect_removed(self, table: str, row_key: int) -> None:
        """A migration deletes this row (a duplicate that a new unique index forbids)."""
        del self.expected[(table, row_key)]
        self.removed.add((table, row_key))

    async def check(self, connection: AsyncConnection, columns: dict[str, set[str]] | None = None) -> int:
        """Every row still holds its values, and every removed row stays gone; with `columns`
        (the schema at an older revision), only those of the tables and columns it has. The
        number of rows checked."""
        checked = 0
        for table, row_key in self.removed:
            if columns is None or table in columns:
                key = sa.column(self._keys[table])
                query = sa.select(key).select_from(sa.table(table)).where(key == row_key)
                assert (await connection.execute(query)).first() is None, f"{table} {row_key} came back"
        for (table, row_key), values in self.expected.items():
            if columns is not None and table not in columns:
                continue
            wanted = {
                name: value for name, value in values.items() if columns is None or name in columns[table]
            }
            key = self._keys[table]
            typed = _typed(table, {*wanted, key})
            query = sa.select(*(typed.c[name] for name in wanted)).where(typed.c[key] == row_key)
            row = (await connection.execute(query)).one_or_none()
            assert row is not None, f"{table} {key}={row_key} is gone"
            assert dict(row._mapping) == wanted, f"{table} {key}={row_key} changed"
            checked += 1
        return checked


async def schema_columns(connection: AsyncConnection) -> dict[str, set[str]]:
    """The tables of the database as it stands, with their columns."""

    def read(sync: sa.Connection) -> dict[str, set[str]]:
        inspector = sa.inspect(sync)
        return {
            table: {column["name"] for column in inspector.get_columns(table)}
            for table in inspector.get_table_names()
        }

    return await connection.run_sync(read)
