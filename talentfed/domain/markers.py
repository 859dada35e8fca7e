"""Read markers: where a member stopped reading the home timeline and the notifications, so
that their apps resume there and count what is unread (Mastodon's markers).

A marker holds the id last read: a status id (a post's row id) for `home`, a notification's key
(`NotificationKey.id`) for `notifications`. Its version starts at 0 and grows by one with each
change of the id; setting the same id again changes nothing, as on Mastodon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.domain.errors import FieldError
from talentfed.domain.notifications import NotificationKey
from talentfed.storage.dialects import insert_for
from talentfed.storage.models import Actor, utcnow
from talentfed.storage.models import Marker as MarkerRow

HOME, NOTIFICATIONS = "home", "notifications"
TIMELINES = (HOME, NOTIFICATIONS)
MAX_STATUS_ID_DIGITS = 18  # a status id is a row id: a BIGINT, as on Mastodon


class MarkerError(FieldError):
    """A position that names no status or notification; `field` is the timeline."""


@dataclass(frozen=True)
class Marker:
    timeline: str
    last_read_id: str
    version: int
    updated_at: datetime


def _checked(timeline: str, last_read_id: str) -> str:
    """The id, if it can name a position in that timeline (what it names may be gone since)."""
    if not last_read_id:
        raise MarkerError(timeline, "last_read_id can't be blank")
    if timeline == NOTIFICATIONS:
        if NotificationKey.parse(last_read_id) is None:
            raise MarkerError(timeline, "last_read_id is not a notification id")
    elif not (
        last_read_id.isascii() and last_read_id.isdigit() and len(last_read_id) <= MAX_STATUS_ID_DIGITS
    ):
        raise MarkerError(timeline, "last_read_id is not a status id")
    return last_read_id


async def markers_of(session: AsyncSession, actor: Actor, timelines: Iterable[str]) -> dict[str, Marker]:
    """The member's markers of those timelines that have one; other names are ignored."""
    wanted = set(timelines) & set(TIMELINES)
    if not wanted:
        return {}
    # Columns, not rows: rows already in the session would not show what set_markers wrote.
    query = select(MarkerRow.timeline, MarkerRow.last_read_id, MarkerRow.version, MarkerRow.updated_at)
    rows = await session.execute(
        query.where(MarkerRow.actor_id == actor.id, MarkerRow.timeline.in_(sorted(wanted)))
    )
    return {row.timeline: Marker(*row) for row in rows}


async def set_markers(session: AsyncSession, actor: Actor, positions: Mapping[str, str]) -> dict[str, Marker]:
    """Move the member's markers (timeline → id last read); other timeline names are ignored.
    Every id is checked before any is written. One statement per timeline, so two devices
    saving at once both succeed and the version counts both."""
    checked = {name: _checked(name, value) for name, value in positions.items() if name in TIMELINES}
    for timeline, last_read_id in checked.items():
        insert = insert_for(session)
        row = insert(MarkerRow).values(
            actor_id=actor.id, timeline=timeline, last_read_id=last_read_id, version=0, updated_at=utcnow()
        )
        moved = row.excluded.last_read_id
        await session.execute(
            row.on_conflict_do_update(
                index_elements=[MarkerRow.actor_id, MarkerRow.timeline],
                set_={
                    "last_read_id": moved,
                    "version": MarkerRow.version + 1,
                    "updated_at": row.excluded.updated_at,
                },
                where=MarkerRow.last_read_id != moved,
            )
        )
    return await markers_of(session, actor, checked)


async def notifications_read_up_to(session: AsyncSession, actor: Actor) -> NotificationKey | None:
    """The last notification the member read, by their notifications marker (None: none yet)."""
    found = await markers_of(session, actor, [NOTIFICATIONS])
    return NotificationKey.parse(found[NOTIFICATIONS].last_read_id) if NOTIFICATIONS in found else None
