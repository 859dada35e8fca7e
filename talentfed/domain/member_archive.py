"""A member's archive in the shape of Mastodon's, and the import of a Mastodon following list.

The archive (`talentfed export`) is four files:

- `actor.json`: the member's actor document, as we publish it;
- `outbox.json`: the member's outbox with every item inline, by the outbox's own rule
  (`domain/outbox_items.py`) read as the member: their followers-only and direct posts too;
- `following_accounts.csv`: the accounts they follow, in the columns of Mastodon's export, which
  Mastodon (and `talentfed import-follows`) import;
- `followers.csv`: the accounts that follow them, one column.

Only accepted follows are listed, as Mastodon does: a request still waiting is not a follow.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain import follows
from talentfed.domain.members import find_local_actor
from talentfed.domain.outbox_items import outbox_documents
from talentfed.domain.visibility import Viewer
from talentfed.federation.collections import inline_collection
from talentfed.federation.context import published
from talentfed.federation.render import actor_document
from talentfed.federation.uris import LocalURIs
from talentfed.storage.models import Actor

FOLLOWING_FILE = "following_accounts.csv"
FOLLOWERS_FILE = "followers.csv"
FOLLOWING_HEADER = ("Account address", "Show boosts", "Notify on new posts", "Languages")
FOLLOWERS_HEADER = ("Account address",)
# Mastodon's own imports take lists of a few thousand lines; a longer file is not a following list.
MAX_IMPORT_LINES = 10_000


@dataclass(frozen=True)
class Archive:
    actor: dict[str, Any]
    outbox: dict[str, Any]
    following: list[str]  # account addresses
    followers: list[str]

    def files(self) -> dict[str, str]:
        """File name → contents."""
        return {
            "actor.json": _json(self.actor),
            "outbox.json": _json(self.outbox),
            FOLLOWING_FILE: _csv(FOLLOWING_HEADER, [(a, "true", "false", "") for a in self.following]),
            FOLLOWERS_FILE: _csv(FOLLOWERS_HEADER, [(a,) for a in self.followers]),
        }


async def member_archive(session: AsyncSession, config: Config, member: Actor) -> Archive:
    uris = LocalURIs(config.node.base_url)
    institution = await find_local_actor(session, config.node.institution_username)
    items = list(await session.scalars(outbox_documents(member, Viewer(actor_id=member.id))))
    following = await follows.following(session, member)
    followers = await follows.followers(session, member, state="accepted")
    return Archive(
        actor=published(actor_document(member, uris, institution=institution)),
        outbox=published(inline_collection(uris.outbox(member.username), items)),
        following=[account_address(edge.actor) for edge in following if edge.state == "accepted"],
        followers=[account_address(edge.actor) for edge in followers],
    )


def account_address(actor: Actor) -> str:
    """How Mastodon's lists name an account: user@domain, without the leading @."""
    return actor.handle


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


# --- importing a following list --------------------------------------------------------


@dataclass(frozen=True)
class ImportLine:
    number: int  # in the file, from 1
    address: str  # the first column: user@domain, @user@domain or an actor's URL


class FollowListError(ValueError):
    """The file cannot be read as a following list at all; the text says why."""


def read_following_list(text: str) -> list[ImportLine]:
    """The accounts of a Mastodon following list, with their line numbers: the first column of
    each row. The header row (`Account address,…`) is skipped, and so are blank rows; Mastodon's
    older exports have no header and one account a line. Whether an address names an account is
    for the lookup to say, line by line."""
    try:
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    except csv.Error as exc:
        raise FollowListError(f"not a CSV file: {exc}") from None
    if len(rows) > MAX_IMPORT_LINES:
        raise FollowListError(f"expected at most {MAX_IMPORT_LINES} lines, got {len(rows)}")
    lines = []
    for number, row in enumerate(rows, start=1):
        address = row[0].strip() if row else ""
        if not address or (number == 1 and address.lower() == FOLLOWING_HEADER[0].lower()):
            continue
        lines.append(ImportLine(number, address))
    return lines


async def import_follow(session: AsyncSession, config: Config, member: Actor, target: Actor) -> str:
    """Follow `target` for a line of an import; what happened, in words. Raises FollowError."""
    before = await follows.find_follow(session, member, target)
    edge = await follows.follow(session, config, member, target)
    if before is not None and before.state == "accepted":
        return "already followed"
    if edge.state == "accepted":
        return "followed"
    return "Follow sent again (pending until accepted)" if before else "Follow sent (pending until accepted)"
