"""The domain-purge job: forget what suspended domains left here, a batch per transaction.

A suspension refuses the domain at once (`federation/blocks.py`); the purge of what was stored
before runs here, within a minute, beside the web server or in `talentfed worker`, and by hand
with `talentfed domain-blocks purge`.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from talentfed.config import Config
from talentfed.domain.domain_purge import PURGE_BATCH, purge_batch
from talentfed.jobs.pause import pause

NAME = "domain-purge"
EVERY_SECONDS = 60

logger = logging.getLogger("talentfed.moderation")


async def purge_until_done(
    sessions: async_sessionmaker[AsyncSession],
    config: Config,
    stop: asyncio.Event | None = None,
    batch: int = PURGE_BATCH,
) -> int:
    """Purge batch after batch, each committed, until nothing is left (or `stop` is set)."""
    total = 0
    while stop is None or not stop.is_set():
        async with sessions.begin() as session:
            deleted = await purge_batch(session, config, batch)
        if not deleted:
            break
        total += deleted
    return total


async def purge_suspended(
    sessions: async_sessionmaker[AsyncSession], config: Config, stop: asyncio.Event
) -> None:
    """Every minute: purge what suspended domains still hold."""
    while not await pause(stop, EVERY_SECONDS):
        try:
            if deleted := await purge_until_done(sessions, config, stop):
                logger.info("domain purge: %d rows of suspended domains deleted", deleted)
        except Exception:  # logged, and tried again at the next round
            logger.exception("domain purge failed")
