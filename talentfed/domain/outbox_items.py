"""What a local actor's outbox lists: its Create and Announce activities whose post the reader
may read (`visibility.readable_by`) and that are not deleted, newest first.

One rule for GET /users/NAME/outbox (web/activitypub.py) and the member's archive
(domain/member_archive.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from talentfed.domain.visibility import Viewer, readable_by
from talentfed.storage.models import Activity, Actor, Object

LISTED_TYPES = ("Create", "Announce")


def listed_in_outbox(actor: Actor, viewer: Viewer) -> ColumnElement[bool]:
    """A condition on `Activity`: it is in `actor`'s outbox as `viewer` reads it."""
    readable = select(Object.uri).where(Object.deleted_at.is_(None), readable_by(viewer)).scalar_subquery()
    return (
        (Activity.local.is_(True))
        & (Activity.actor_uri == actor.uri)
        & (Activity.type.in_(LISTED_TYPES))
        & (Activity.object_uri.in_(readable))
    )


def outbox_count(actor: Actor, viewer: Viewer) -> Select[int]:
    return select(func.count()).select_from(Activity).where(listed_in_outbox(actor, viewer))


def outbox_documents(actor: Actor, viewer: Viewer) -> Select[dict[str, Any]]:
    """The activities' documents as stored, newest first (they leave the node through
    `context.published`)."""
    return select(Activity.document).where(listed_in_outbox(actor, viewer)).order_by(Activity.id.desc())
