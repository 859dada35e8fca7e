"""What a node says about itself to people and apps: its rules and whom to contact.

Both come from `[node]` in the configuration (`rules`, `admin_contact`, `contact_account`). The
home page, the client API (`/api/v1/instance`, `/api/v2/instance`, `/api/v1/instance/rules`) and
NodeInfo all read them here, so they show the same rules with the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from talentfed.config import Config
from talentfed.domain.members import find_local_actor
from talentfed.storage.models import Actor


@dataclass(frozen=True)
class Rule:
    id: str  # its position, from "1": stable while the list is only appended to
    text: str
    hint: str = ""


def rules_of(config: Config) -> list[Rule]:
    return [Rule(str(number), text) for number, text in enumerate(config.node.rules, start=1)]


async def contact_account(session: AsyncSession, config: Config) -> Actor | None:
    """The member the admin named as the contact; None when none is named or no member has
    that username (any longer): apps and pages then show the e-mail alone."""
    username = config.node.contact_account
    return await find_local_actor(session, username) if username else None
