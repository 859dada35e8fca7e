"""Many small facts in one round trip: SELECTs of `(what, id, text, number)` rows joined with
UNION ALL.

A page of statuses needs its posts' reply, like and boost counts, its reader's likes, boosts
and bookmarks, its actors' follower and post counts and its replies' parents: small integer
facts, each the rule of its own module (domain/post_counts.py, domain/profiles.py). Each of
those modules writes its query in this one shape (`fact`) and reads its own rows back by their
`what`; `read_facts` runs any of them together, so a page pays one round trip for all of them
instead of one each. `what` tells the rows apart, so no two queries may share one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession


class Fact(NamedTuple):
    what: str
    id: int | None
    text: str | None
    number: int | None


def fact(what: Any, id: Any = None, text: Any = None, number: Any = None) -> Select[Any]:
    """A SELECT of Fact rows: `what` a string (or a string column), the others columns or None.
    Typed NULLs, so that PostgreSQL can unite them with the other queries' columns."""

    def column(value: Any, kind: Any) -> Any:
        return literal(value, kind) if value is None or isinstance(value, str | int) else value

    return select(
        column(what, String).label("what"),
        column(id, Integer).label("id"),
        column(text, String).label("text"),
        column(number, Integer).label("number"),
    )


async def read_facts(session: AsyncSession, queries: Sequence[Select[Any]]) -> list[Fact]:
    """The rows of all `queries` (SELECTs made with `fact`), in one round trip."""
    if not queries:
        return []
    query = queries[0] if len(queries) == 1 else union_all(*queries)
    return [Fact(*row) for row in await session.execute(query)]
